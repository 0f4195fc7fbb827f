import { Inject, Injectable } from '@nestjs/common';
import type { TurnEvent } from '@parley/contracts';
import { ConversationHistory } from './conversation-history.js';
import type { Reply } from './reply-generation.js';
import type { SpeechOutcome } from './sentence-speech.js';
import type { TurnContext } from './turn-context.js';

/** The end of a successful turn: the turn is stored, then one `complete` with timings and usage. */
@Injectable()
export class TurnCompletion {
  constructor(@Inject(ConversationHistory) private readonly history: ConversationHistory) {}

  async complete(turn: TurnContext, userText: string, reply: Reply, speech: SpeechOutcome): Promise<TurnEvent> {
    if (turn.store !== false) await this.history.store(turn, userText, reply.text);
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
          ...(turn.speech && speech.firstAudioAtMs ? { first_audio_ms: since(turn.startedAtMs, speech.firstAudioAtMs) } : {}),
          total_ms: since(turn.startedAtMs),
        },
        usage: {
          prompt_tokens: reply.done?.prompt_tokens ?? 0,
          completion_tokens: reply.done?.completion_tokens ?? 0,
        },
        ...(turn.speech ? { audio_available: !speech.error, ...(speech.error ? { audio_error: speech.error.message } : {}) } : {}),
      },
    };
  }
}
