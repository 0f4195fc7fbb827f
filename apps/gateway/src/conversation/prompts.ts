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
import { TARGET_CLOSE, TARGET_OPEN } from '../speech/language-runs.js';

/**
 * Every prompt Parley writes, in one place: the tutor's system prompt and the feedback request.
 * The difficulty shapes both.
 */

export interface TutorSettings {
  /** The language practised. */
  language: LanguageCode;
  /** The learner's own language: a beginner's answers, explanations and translations use it. */
  nativeLanguage: LanguageCode;
  difficulty: Difficulty;
  scenario: ScenarioId;
  /** The client's own instructions (OpenAI Realtime's `session.instructions`), added after the tutor's. */
  instructions?: string;
}

const DIFFICULTY_GUIDANCE: Record<Difficulty, (language: string, native: string) => string> = {
  beginner: (language, native) =>
    `The learner is a beginner. Answer mostly in ${native}. Include one or two short, simple ${language} ` +
    `phrases, each followed by its ${native} translation in parentheses.`,
  intermediate: (language, native) =>
    `The learner is at an intermediate level. Answer mainly in ${language} with everyday vocabulary; ` +
    `add a brief ${native} hint for any harder word.`,
  advanced: (language, native) =>
    `The learner is advanced. Answer in natural ${language} only, as a native speaker would; ` +
    `use ${native} only if the learner asks for it.`,
};

/**
 * Below the advanced level an answer mixes two languages; the markers let each part be spoken by
 * a voice of its language (they are stripped before anything reaches the learner or the history).
 */
const MARKER_GUIDANCE = (language: string) =>
  `Write every ${language} word or phrase between ${TARGET_OPEN} and ${TARGET_CLOSE}, for example ` +
  `${TARGET_OPEN}...${TARGET_CLOSE} (...); write nothing else between them.`;

/** The system prompt for one conversation: who the tutor is, the scenario, and how to answer. */
export function buildSystemPrompt({ language, nativeLanguage, difficulty, scenario, instructions }: TutorSettings): string {
  const languageName = LANGUAGES[language].name;
  const native = LANGUAGES[nativeLanguage].name;
  return [
    `You are Parley, a friendly and patient ${languageName} conversation partner for a language learner.`,
    `Scenario: ${SCENARIOS[scenario]}. Stay in this scenario and play your role in it naturally.`,
    DIFFICULTY_GUIDANCE[difficulty](languageName, native),
    ...(difficulty !== 'advanced' && nativeLanguage !== language ? [MARKER_GUIDANCE(languageName)] : []),
    // A learner may fall back on their own language ("how do you say 'bill'?"): help, then go on.
    ...(nativeLanguage !== language
      ? [`If the learner speaks ${native}, answer their question and help them say it in ${languageName}.`]
      : []),
    'Keep every answer to 1-3 short sentences, because it will be spoken aloud.',
    'If the learner makes a mistake, gently show the correct form once, then keep the conversation going.',
    'End with a question or prompt that invites the learner to answer.',
    'Do not use markdown, lists or emoji.',
    ...(instructions?.trim() ? [`Instructions from the application: ${instructions.trim()}`] : []),
  ].join(' ');
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
    guidance:
      'The learner is at an intermediate level: correct up to two mistakes of grammar or word choice, most important first.',
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
  /** The feedback schema with this difficulty's tighter bounds, and at least one word (still a valid `feedback` event). */
  schema: JsonObjectSchema;
}

/** The request for a turn's feedback: corrections of the learner's words, the answer translated, its new words. */
export function buildFeedbackPrompt(settings: TutorSettings, learnerText: string, answer: string): FeedbackPrompt {
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
      // Every answer has at least one word worth learning (a beginner's has its target phrases).
      vocabulary: { ...(vocabulary as Extract<typeof vocabulary, { type: 'array' }>), minItems: 1, maxItems: maxWords },
    },
  };
}
