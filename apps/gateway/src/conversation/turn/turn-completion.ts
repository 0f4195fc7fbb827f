import { Inject, Injectable, Logger } from '@nestjs/common';
import type { TurnEvent } from '@parley/contracts';
import { LearnerProgressUseCase } from '../../learners/learner-progress.use-case.js';
import { ConversationHistory } from './conversation-history.js';
import type { Reply } from './reply-generation.js';
import type { SpeechOutcome } from './sentence-speech.js';
import type { TurnContext } from './turn-context.js';
import type { FeedbackOutcome } from './turn-feedback.js';

/**
 * The end of a successful turn: the turn is stored (and counted toward the learner's progress),
 * then one `complete` with timings and usage.
 */
@Injectable()
export class TurnCompletion {
  private readonly logger = new Logger('turns');

  constructor(
    @Inject(ConversationHistory) private readonly history: ConversationHistory,
    @Inject(LearnerProgressUseCase) private readonly learners: LearnerProgressUseCase,
  ) {}

  async complete(turn: TurnContext, userText: string, reply: Reply, speech: SpeechOutcome, feedback: FeedbackOutcome = {}): Promise<TurnEvent> {
    await Promise.all([
      // A live turn stores itself, with what was heard (TurnContext.store === false).
      turn.store === false ? undefined : this.history.store(turn, userText, reply.text),
      this.countForLearner(turn, feedback),
    ]);
    const now = performance.now();
    const since = (from: number, mark: number = now) => Math.round(mark - from);
    return {
      event: 'complete',
      data: {
        full_response: reply.text,
        language: turn.settings.language,
        session_id: turn.sessionId,
        timings: {
          ...turn.timings,
          llm_first_chunk_ms: since(reply.startedAtMs, reply.firstChunkAtMs),
          llm_ms: since(reply.startedAtMs),
          ...(turn.speech && speech.firstAudioAtMs
            ? { first_audio_ms: since(turn.startedAtMs, speech.firstAudioAtMs) }
            : {}),
          total_ms: since(turn.startedAtMs),
        },
        usage: {
          prompt_tokens: reply.done?.prompt_tokens ?? 0,
          completion_tokens: reply.done?.completion_tokens ?? 0,
        },
        ...(turn.speech ? { audio_available: !speech.error, ...(speech.error ? { audio_error: speech.error.message } : {}) } : {}),
        ...(turn.feedback && feedback.error ? { feedback_error: feedback.error } : {}),
      },
    };
  }

  /** As with history: the learner already has the answer; a progress not stored is logged, not a failed turn. */
  private async countForLearner(turn: TurnContext, { feedback }: FeedbackOutcome): Promise<void> {
    if (!turn.learner) return;
    try {
      await this.learners.recordTurn(turn.learner, { language: turn.settings.language, feedback, at: new Date() });
    } catch (error) {
      this.logger.error(`turn of learner ${turn.learner.id} not counted: ${String(error)}`);
    }
  }
}
