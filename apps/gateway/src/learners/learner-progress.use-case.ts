import { Inject, Injectable } from '@nestjs/common';
import type { LearnerProgress, LearnerVocabularyQuery, LearnerWord } from '@parley/contracts';
import { emptyProgress, recordTurn, vocabularyCsv, type LearnerTurn } from './learner-progress.js';
import { LEARNER_STORE, type LearnerStore } from './learner-store.port.js';

/** A learner's progress: counted at the end of each turn that names the learner, read, exported, forgotten. */
@Injectable()
export class LearnerProgressUseCase {
  constructor(@Inject(LEARNER_STORE) private readonly store: LearnerStore) {}

  recordTurn(learnerId: string, turn: LearnerTurn): Promise<void> {
    return this.store.update(learnerId, (current) => recordTurn(current ?? emptyProgress(learnerId), turn));
  }

  /** A learner never seen has empty progress (as an unknown session has no messages). */
  async progress(learnerId: string): Promise<LearnerProgress> {
    return (await this.store.progress(learnerId)) ?? emptyProgress(learnerId);
  }

  async vocabulary(learnerId: string, query: LearnerVocabularyQuery): Promise<{ words: LearnerWord[]; csv?: string }> {
    const { vocabulary } = await this.progress(learnerId);
    const words = query.language ? vocabulary.filter((word) => word.language === query.language) : vocabulary;
    return query.format === 'csv' ? { words, csv: vocabularyCsv(words) } : { words };
  }

  forget(learnerId: string): Promise<void> {
    return this.store.forget(learnerId);
  }
}
