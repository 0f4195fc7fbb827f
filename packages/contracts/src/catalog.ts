/**
 * The tutoring catalog: what the learner can pick. Served by GET /api/health/languages and
 * /api/health/scenarios, validated on every turn, and used to build the system prompt.
 */

export interface LanguageInfo {
  name: string;
  /** Piper voice ids (see the models manifest); empty when no Piper voice exists for it. */
  tts_voices: string[];
}

export const LANGUAGES = {
  en: { name: 'English', tts_voices: ['en_US-lessac-medium', 'en_GB-alba-medium'] },
  es: { name: 'Spanish', tts_voices: ['es_ES-davefx-medium', 'es_MX-claude-high'] },
  fr: { name: 'French', tts_voices: ['fr_FR-siwis-medium'] },
  de: { name: 'German', tts_voices: ['de_DE-thorsten-medium'] },
  it: { name: 'Italian', tts_voices: ['it_IT-paola-medium'] },
  pt: { name: 'Portuguese', tts_voices: ['pt_BR-faber-medium', 'pt_PT-tugao-medium'] },
  ja: { name: 'Japanese', tts_voices: [] },
  zh: { name: 'Chinese', tts_voices: ['zh_CN-huayan-medium'] },
  ko: { name: 'Korean', tts_voices: [] },
  ar: { name: 'Arabic', tts_voices: ['ar_JO-kareem-medium'] },
  nl: { name: 'Dutch', tts_voices: ['nl_NL-mls-medium', 'nl_BE-nathalie-medium'] },
  ru: { name: 'Russian', tts_voices: ['ru_RU-irina-medium'] },
  th: { name: 'Thai', tts_voices: [] },
  vi: { name: 'Vietnamese', tts_voices: ['vi_VN-vais1000-medium'] },
  tr: { name: 'Turkish', tts_voices: ['tr_TR-dfki-medium'] },
  el: { name: 'Greek', tts_voices: ['el_GR-rapunzelina-low'] },
  pl: { name: 'Polish', tts_voices: ['pl_PL-gosia-medium'] },
  hi: { name: 'Hindi', tts_voices: ['hi_IN-pratham-medium'] },
} as const satisfies Record<string, LanguageInfo>;

export type LanguageCode = keyof typeof LANGUAGES;
export const LANGUAGE_CODES = Object.keys(LANGUAGES) as LanguageCode[];

export const SCENARIOS = {
  greeting: 'Practice basic greetings and introductions',
  restaurant: 'Order food and drinks at a restaurant',
  directions: 'Ask for and give directions around town',
  shopping: 'Shop for clothes, groceries and souvenirs',
  hotel: 'Check in, ask about your room and hotel services',
  transportation: 'Buy tickets and use buses, trains and taxis',
  emergency: 'Handle emergencies: doctors, pharmacies and the police',
  small_talk: 'Chat casually about the weather, hobbies and daily life',
  sightseeing: 'Visit sights, museums and ask about local culture',
} as const;

export type ScenarioId = keyof typeof SCENARIOS;
export const SCENARIO_IDS = Object.keys(SCENARIOS) as ScenarioId[];

export const DIFFICULTIES = ['beginner', 'intermediate', 'advanced'] as const;
export type Difficulty = (typeof DIFFICULTIES)[number];

/**
 * Speech-rate (Piper length_scale) per difficulty when the request sets none: beginners hear
 * slower speech. 1.0 is normal, larger is slower.
 */
export const SPEECH_RATE_BY_DIFFICULTY: Record<Difficulty, number> = {
  beginner: 1.2,
  intermediate: 1.05,
  advanced: 1.0,
};

export function isLanguageCode(value: string): value is LanguageCode {
  return Object.hasOwn(LANGUAGES, value);
}
