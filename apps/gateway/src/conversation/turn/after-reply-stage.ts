import type { TurnEvent } from '@parley/contracts';
import type { Observable } from 'rxjs';
import type { Reply } from './reply-generation.js';
import type { TurnContext } from './turn-context.js';

/**
 * An addition to every turn: its events come after the answer's text and speech and before
 * `complete` (e.g. feedback on the learner's message). Provide one under AFTER_REPLY_STAGES;
 * an error it throws ends the turn with an `error` event, so a stage that is optional should
 * catch its own failures.
 */
export interface AfterReplyStage {
  events(turn: TurnContext, userText: string, reply: Reply): Observable<TurnEvent>;
}

export const AFTER_REPLY_STAGES = Symbol('AFTER_REPLY_STAGES');
