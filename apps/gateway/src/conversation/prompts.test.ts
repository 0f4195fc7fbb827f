import { chatRequestSchema, DIFFICULTIES, FEEDBACK_LIMITS, LANGUAGE_CODES, LANGUAGES, SCENARIO_IDS, SCENARIOS } from '@parley/contracts';
import { buildFeedbackPrompt, buildSystemPrompt } from './prompts.js';

describe('buildSystemPrompt', () => {
  it('names the language, the difficulty\'s way of answering and the scenario for every combination', () => {
    const guidance = { beginner: 'The learner is a beginner', intermediate: 'intermediate level', advanced: 'The learner is advanced' };
    for (const language of LANGUAGE_CODES) {
      for (const difficulty of DIFFICULTIES) {
        for (const scenario of SCENARIO_IDS) {
          const prompt = buildSystemPrompt({ language, nativeLanguage: 'en', difficulty, scenario });
          expect(prompt).toContain(`a friendly and patient ${LANGUAGES[language].name} conversation partner`);
          expect(prompt).toContain(guidance[difficulty]);
          expect(prompt).toContain(SCENARIOS[scenario]);
        }
      }
    }
  });

  it('answers beginners mostly in their native language, with translated phrases', () => {
    const prompt = buildSystemPrompt({ language: 'fr', nativeLanguage: 'pt', difficulty: 'beginner', scenario: 'restaurant' });
    expect(prompt).toMatch(/Answer mostly in Portuguese/);
    expect(prompt).toMatch(/short, simple French phrases, each followed by its Portuguese translation/);
    expect(prompt).toMatch(/1-3 short sentences/);
  });

  it('asks advanced learners to be answered in the target language only', () => {
    const prompt = buildSystemPrompt({ language: 'de', nativeLanguage: 'en', difficulty: 'advanced', scenario: 'hotel' });
    expect(prompt).toMatch(/natural German only/);
    expect(prompt).not.toMatch(/mostly in English/);
  });

  it('asks for target-language markers below the advanced level when the answer mixes two languages', () => {
    const marked = /Write every Spanish word or phrase between <t> and <\/t>/;
    expect(buildSystemPrompt({ language: 'es', nativeLanguage: 'en', difficulty: 'beginner', scenario: 'greeting' })).toMatch(marked);
    expect(buildSystemPrompt({ language: 'es', nativeLanguage: 'en', difficulty: 'intermediate', scenario: 'greeting' })).toMatch(marked);
    expect(buildSystemPrompt({ language: 'es', nativeLanguage: 'en', difficulty: 'advanced', scenario: 'greeting' })).not.toMatch(/<t>/);
    expect(buildSystemPrompt({ language: 'es', nativeLanguage: 'es', difficulty: 'beginner', scenario: 'greeting' })).not.toMatch(/<t>/);
  });

  it('tells the tutor what to do when the learner speaks their own language, unless it is the one practised', () => {
    expect(buildSystemPrompt({ language: 'es', nativeLanguage: 'en', difficulty: 'beginner', scenario: 'greeting' })).toContain(
      'If the learner speaks English, answer their question and help them say it in Spanish.',
    );
    expect(buildSystemPrompt({ language: 'en', nativeLanguage: 'en', difficulty: 'beginner', scenario: 'greeting' })).not.toContain(
      'If the learner speaks',
    );
  });
});

describe('buildFeedbackPrompt', () => {
  it('names the language, the native language, the difficulty and the scenario for every combination', () => {
    let checked = 0;
    for (const [index, language] of LANGUAGE_CODES.entries()) {
      const nativeLanguage = LANGUAGE_CODES[(index + 5) % LANGUAGE_CODES.length]!;
      for (const difficulty of DIFFICULTIES) {
        for (const scenario of SCENARIO_IDS) {
          const { messages } = buildFeedbackPrompt(
            { language, nativeLanguage, difficulty, scenario },
            'yo tener hambre',
            'Claro.',
          );
          const system = messages[0]!.content;
          expect(system).toContain(`${difficulty} ${LANGUAGES[language].name} lesson`);
          expect(system).toContain(`native language is ${LANGUAGES[nativeLanguage].name}`);
          expect(system).toContain(`one short line in ${LANGUAGES[nativeLanguage].name}`);
          expect(system).toContain(SCENARIOS[scenario]);
          checked++;
        }
      }
    }
    expect(checked).toBe(18 * 3 * 9);
  });

  it("puts the learner's words and the answer in the user message", () => {
    const { messages } = buildFeedbackPrompt(
      { language: 'es', nativeLanguage: 'en', difficulty: 'beginner', scenario: 'greeting' },
      'yo es Ana',
      '¡Hola, Ana!',
    );
    expect(messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(messages[1]!.content).toBe('The learner said: yo es Ana\nThe tutor answered: ¡Hola, Ana!');
  });

  it('gives beginners fewer, simpler corrections and fewer words, in the grammar as well as the words', () => {
    const prompt = (difficulty: 'beginner' | 'intermediate' | 'advanced') =>
      buildFeedbackPrompt(
        { language: 'fr', nativeLanguage: 'de', difficulty, scenario: 'hotel' },
        'je suis allé',
        'Très bien.',
      );
    const bounds = (difficulty: 'beginner' | 'intermediate' | 'advanced') => {
      const { properties } = prompt(difficulty).schema as { properties: Record<string, { minItems?: number; maxItems?: number }> };
      return [properties.corrections!.maxItems, properties.vocabulary!.minItems, properties.vocabulary!.maxItems];
    };
    expect(bounds('beginner')).toEqual([1, 1, 3]);
    expect(bounds('intermediate')).toEqual([2, 1, 4]);
    expect(bounds('advanced')).toEqual([FEEDBACK_LIMITS.maxCorrections, 1, FEEDBACK_LIMITS.maxVocabulary]);
    expect(prompt('beginner').messages[0]!.content).toMatch(/correct at most one mistake.*very simple words/);
    expect(prompt('advanced').messages[0]!.content).toMatch(/unnatural for a native speaker/);
  });

  it('asks for a schema the llm-service accepts', () => {
    for (const difficulty of DIFFICULTIES) {
      const { messages, schema } = buildFeedbackPrompt(
        { language: 'ja', nativeLanguage: 'en', difficulty, scenario: 'shopping' },
        'x',
        'y',
      );
      const request = { request_id: 'abcdefgh', messages, response_format: { type: 'json_schema', schema } };
      expect(chatRequestSchema.safeParse(request).success).toBe(true);
    }
  });
});
