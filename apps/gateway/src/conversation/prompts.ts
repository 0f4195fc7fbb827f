import {
  FEEDBACK_JSON_SCHEMA,
  LANGUAGES,
  SCENARIOS,
  type ChatMessage,
  type Difficulty,
  type JsonObjectSchema,
  type LanguageCode,
  type ScenarioId,
} from '@parley/contracts';

export interface FeedbackSettings {
  /** The language practised. */
  language: LanguageCode;
  /** The learner's own language: explanations and translations are written in it. */
  nativeLanguage: LanguageCode;
  difficulty: Difficulty;
  scenario: ScenarioId;
}

/**
 * How the difficulty shapes feedback: beginners get fewer, simpler corrections (and only of what
 * blocks understanding) and the most basic words; advanced learners also hear about style.
 * `maxCorrections` and `maxWords` tighten the grammar itself, not only the prompt.
 */
const FEEDBACK_BY_DIFFICULTY: Record<Difficulty, { maxCorrections: number; maxWords: number; guidance: string }> = {
  beginner: {
    maxCorrections: 1,
    maxWords: 3,
    guidance:
      'The learner is a beginner: correct at most one mistake, only one that changes the meaning or blocks understanding; ' +
      'ignore accents, punctuation and small slips. Explain in a few very simple words.',
  },
  intermediate: {
    maxCorrections: 2,
    maxWords: 4,
    guidance: 'The learner is at an intermediate level: correct up to two mistakes of grammar or word choice, most important first.',
  },
  advanced: {
    maxCorrections: 3,
    maxWords: 6,
    guidance:
      'The learner is advanced: correct up to three mistakes, including phrasing that is correct but unnatural for a native speaker.',
  },
};

export interface FeedbackPrompt {
  messages: ChatMessage[];
  /** The feedback schema with this difficulty's tighter bounds (still a valid `feedback` event). */
  schema: JsonObjectSchema;
}

/** The request for a turn's feedback: corrections of the learner's words, the answer translated, its new words. */
export function buildFeedbackPrompt(settings: FeedbackSettings, learnerText: string, answer: string): FeedbackPrompt {
  const language = LANGUAGES[settings.language].name;
  const native = LANGUAGES[settings.nativeLanguage].name;
  const shape = FEEDBACK_BY_DIFFICULTY[settings.difficulty];
  const system = [
    `You are Parley, a ${language} tutor. You review one exchange of a ${settings.difficulty} ${language} lesson`,
    `(scenario: ${SCENARIOS[settings.scenario]}) for a learner whose native language is ${native}.`,
    'Reply with JSON only.',
    `"corrections": mistakes in the learner's ${language}, each with "original" (the learner's exact words),`,
    `"corrected" (the right ${language}) and "explanation" (one short line in ${native}).`,
    shape.guidance,
    `Words the learner wrote in ${native} are not mistakes. An empty list when there is nothing to correct.`,
    `"translation": the tutor's answer translated into ${native}.`,
    `"vocabulary": up to ${shape.maxWords} useful ${language} words or short phrases from the tutor's answer,`,
    `each with its ${native} "translation".`,
  ].join(' ');
  return {
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: `The learner said: ${learnerText}\nThe tutor answered: ${answer}` },
    ],
    schema: feedbackSchemaFor(settings.difficulty),
  };
}

function feedbackSchemaFor(difficulty: Difficulty): JsonObjectSchema {
  const { maxCorrections, maxWords } = FEEDBACK_BY_DIFFICULTY[difficulty];
  const { corrections, vocabulary } = FEEDBACK_JSON_SCHEMA.properties;
  return {
    ...FEEDBACK_JSON_SCHEMA,
    properties: {
      ...FEEDBACK_JSON_SCHEMA.properties,
      corrections: { ...(corrections as Extract<typeof corrections, { type: 'array' }>), maxItems: maxCorrections },
      vocabulary: { ...(vocabulary as Extract<typeof vocabulary, { type: 'array' }>), maxItems: maxWords },
    },
  };
}
