import { LEARNER_LIMITS, type Feedback, type LearnerProgress, type LearnerWord } from '@parley/contracts';

/** One turn as it counts toward a learner's progress. */
export interface LearnerTurn {
  /** The language practised (the turn's target language). */
  language: string;
  /** The turn's feedback, when it asked for one and got it: its words and corrections count. */
  feedback?: Feedback;
  at: Date;
}

export function emptyProgress(learnerId: string): LearnerProgress {
  return { learner_id: learnerId, languages: {}, vocabulary: [], recent_corrections: [] };
}

/** Words are the same word whatever their case or surrounding spaces, per language. */
const wordKey = (language: string, word: string) => `${language}\u0000${word.trim().toLocaleLowerCase()}`;

/**
 * The progress after one more turn: the turn counted for its language, the feedback's words
 * added (or seen once more), its corrections put first. Pure, so that a compare-and-set retry
 * can apply it again to whatever another writer stored in between.
 */
export function recordTurn(progress: LearnerProgress, turn: LearnerTurn): LearnerProgress {
  const at = turn.at.toISOString();
  // Stored most recently seen first; here least recently seen first, so a word seen now goes last.
  const vocabulary = new Map(progress.vocabulary.toReversed().map((word) => [wordKey(word.language, word.word), word]));
  // Each distinct word once per turn, even if the feedback lists it twice.
  const seen = new Map(
    (turn.feedback?.vocabulary ?? []).filter((w) => w.word.trim()).map((w) => [wordKey(turn.language, w.word), w]),
  );
  for (const [key, { word, translation }] of seen) {
    const known = vocabulary.get(key);
    vocabulary.delete(key);
    vocabulary.set(
      key,
      known
        ? { ...known, translation: translation || known.translation, times_seen: known.times_seen + 1, last_seen: at }
        : { word: word.trim(), translation, language: turn.language, times_seen: 1, first_seen: at, last_seen: at },
    );
  }
  const words = [...vocabulary.values()].slice(-LEARNER_LIMITS.maxVocabulary).reverse();
  const corrections = (turn.feedback?.corrections ?? []).map((c) => ({ ...c, language: turn.language, at }));
  const before = progress.languages[turn.language] ?? { turns: 0, words: 0, corrections: 0 };
  return {
    learner_id: progress.learner_id,
    languages: {
      ...progress.languages,
      [turn.language]: {
        turns: before.turns + 1,
        words: words.filter((word) => word.language === turn.language).length,
        corrections: before.corrections + corrections.length,
      },
    },
    vocabulary: words,
    recent_corrections: [...corrections, ...progress.recent_corrections].slice(0, LEARNER_LIMITS.recentCorrections),
  };
}

/** The word list as CSV (RFC 4180, header `word,translation,language`), for flash-card apps. */
export function vocabularyCsv(words: LearnerWord[]): string {
  const field = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  return (
    ['word,translation,language', ...words.map((w) => [w.word, w.translation, w.language].map(field).join(','))].join(
      '\r\n',
    ) + '\r\n'
  );
}
