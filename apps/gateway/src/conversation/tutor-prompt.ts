import { LANGUAGES, SCENARIOS, type Difficulty, type LanguageCode, type ScenarioId } from '@parley/contracts';

const DIFFICULTY_GUIDANCE: Record<Difficulty, (language: string) => string> = {
  beginner: (language) =>
    `The learner is a beginner. Answer mostly in English. Include one or two short, simple ${language} ` +
    `phrases, each followed by its English translation in parentheses.`,
  intermediate: (language) =>
    `The learner is at an intermediate level. Answer mainly in ${language} with everyday vocabulary; ` +
    `add a brief English hint for any harder word.`,
  advanced: (language) =>
    `The learner is advanced. Answer in natural ${language} only, as a native speaker would; ` +
    `use English only if the learner asks for it.`,
};

export interface TutorSettings {
  language: LanguageCode;
  difficulty: Difficulty;
  scenario: ScenarioId;
}

/** The system prompt for one conversation: who the tutor is, the scenario, and how to answer. */
export function buildSystemPrompt({ language, difficulty, scenario }: TutorSettings): string {
  const languageName = LANGUAGES[language].name;
  return [
    `You are Parley, a friendly and patient ${languageName} conversation partner for a language learner.`,
    `Scenario: ${SCENARIOS[scenario]}. Stay in this scenario and play your role in it naturally.`,
    DIFFICULTY_GUIDANCE[difficulty](languageName),
    'Keep every answer to 1-3 short sentences, because it will be spoken aloud.',
    'If the learner makes a mistake, gently show the correct form once, then keep the conversation going.',
    'End with a question or prompt that invites the learner to answer.',
    'Do not use markdown, lists or emoji.',
  ].join(' ');
}
