import { LEARNER_LIMITS, type Feedback } from '@parley/contracts';
import { emptyProgress, recordTurn, vocabularyCsv } from './learner-progress.js';

const feedback = (words: string[], corrections = 0): Feedback => ({
  corrections: Array.from({ length: corrections }, (_, i) => ({
    original: `yo es ${i}`,
    corrected: `yo soy ${i}`,
    explanation: 'ser',
  })),
  translation: 'Hello',
  vocabulary: words.map((word) => ({ word, translation: `${word} (en)` })),
});
const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));

describe('recordTurn', () => {
  it('counts the turn for its language, adds the new words and puts the corrections first', () => {
    let progress = recordTurn(emptyProgress('ana'), {
      language: 'es',
      feedback: feedback(['hola', 'gracias'], 1),
      at: at(1),
    });
    progress = recordTurn(progress, { language: 'es', feedback: feedback(['Hola '], 2), at: at(2) });
    progress = recordTurn(progress, { language: 'fr', at: at(3) });
    expect(progress.languages).toEqual({
      es: { turns: 2, words: 2, corrections: 3 },
      fr: { turns: 1, words: 0, corrections: 0 },
    });
    expect(progress.vocabulary).toEqual([
      {
        word: 'hola',
        translation: 'Hola  (en)',
        language: 'es',
        times_seen: 2,
        first_seen: at(1).toISOString(),
        last_seen: at(2).toISOString(),
      },
      {
        word: 'gracias',
        translation: 'gracias (en)',
        language: 'es',
        times_seen: 1,
        first_seen: at(1).toISOString(),
        last_seen: at(1).toISOString(),
      },
    ]);
    expect(progress.recent_corrections.map((c) => [c.original, c.at])).toEqual([
      ['yo es 0', at(2).toISOString()],
      ['yo es 1', at(2).toISOString()],
      ['yo es 0', at(1).toISOString()],
    ]);
    expect(progress.recent_corrections[0]).toMatchObject({ corrected: 'yo soy 0', explanation: 'ser', language: 'es' });
  });

  it('keeps one word per language: the same spelling in two languages is two words', () => {
    let progress = recordTurn(emptyProgress('ana'), { language: 'es', feedback: feedback(['no']), at: at(1) });
    progress = recordTurn(progress, { language: 'it', feedback: feedback(['no', 'no']), at: at(2) });
    expect(progress.vocabulary.map((w) => [w.word, w.language, w.times_seen])).toEqual([
      ['no', 'it', 1],
      ['no', 'es', 1],
    ]);
  });

  it('keeps the most recently seen words and corrections within the limits', () => {
    let progress = emptyProgress('ana');
    const perTurn = 6;
    const turns = Math.ceil(LEARNER_LIMITS.maxVocabulary / perTurn) + 2;
    for (let t = 0; t < turns; t++) {
      const words = Array.from({ length: perTurn }, (_, i) => `w${t * perTurn + i}`);
      progress = recordTurn(progress, { language: 'es', feedback: feedback(words, 3), at: at(t) });
    }
    expect(progress.vocabulary).toHaveLength(LEARNER_LIMITS.maxVocabulary);
    expect(progress.vocabulary[0]!.word).toBe(`w${turns * perTurn - 1}`);
    expect(progress.vocabulary.some((w) => w.word === 'w0')).toBe(false);
    expect(progress.languages.es!.words).toBe(LEARNER_LIMITS.maxVocabulary);
    expect(progress.recent_corrections).toHaveLength(LEARNER_LIMITS.recentCorrections);
    expect(progress.languages.es!.corrections).toBe(turns * 3);
  });
});

describe('vocabularyCsv', () => {
  it('writes a header and one quoted-where-needed row per word', () => {
    const words = recordTurn(emptyProgress('ana'), {
      language: 'es',
      feedback: {
        corrections: [],
        translation: '',
        vocabulary: [
          { word: 'sí, claro', translation: 'yes, "of course"' },
          { word: 'hola', translation: 'hello' },
        ],
      },
      at: at(1),
    }).vocabulary;
    expect(vocabularyCsv(words)).toBe(
      'word,translation,language\r\nhola,hello,es\r\n"sí, claro","yes, ""of course""",es\r\n',
    );
  });
});
