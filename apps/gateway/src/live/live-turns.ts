import { Inject, Injectable } from '@nestjs/common';
import type { TurnEvent } from '@parley/contracts';
import type { Observable } from 'rxjs';
import { ConversationTurnUseCase } from '../conversation/conversation-turn.use-case.js';
import { ConversationHistory } from '../conversation/turn/conversation-history.js';
import { turnContext } from '../conversation/turn/turn-context.js';
import type { LiveSettings } from './live-conversation.js';


/** The turn use case as a live conversation uses it: spoken answers that it stores itself, once heard. */
@Injectable()
export class LiveTurns {
  /** Stores under way: a shutdown waits for them before closing the broker connection. */
  private readonly storing = new Set<Promise<void>>();

  constructor(
    @Inject(ConversationTurnUseCase) private readonly turns: ConversationTurnUseCase,
    @Inject(ConversationHistory) private readonly history: ConversationHistory,
  ) {}

  /**
   * With the socket's `learner_id`, `feedback` and `native_language` as an HTTP turn has them: a
   * `feedback` event, and the turn counted toward the learner (in `learnerSpace`) once answered.
   */
  answer(settings: LiveSettings, userText: string, learnerSpace?: string): Observable<TurnEvent> {
    const turn = turnContext(request(settings), { speak: true, learnerSpace });
    turn.store = false;
    if (settings.instructions) turn.settings = { ...turn.settings, instructions: settings.instructions };
    return this.turns.answer(turn, userText);
  }

  store(settings: LiveSettings, userText: string, heard: string): Promise<void> {
    const stored = this.history.store(turnContext(request(settings), { speak: false }), userText, heard);
    const tracked = stored.catch(() => undefined).finally(() => this.storing.delete(tracked));
    this.storing.add(tracked);
    return stored;
  }

  /** Resolves when the stores started so far have ended (stored or failed). */
  async storesSettled(): Promise<void> {
    await Promise.all([...this.storing]);
  }
}

/** The socket's settings as a turn request (the query's optional turn options with their defaults). */
function request(settings: LiveSettings) {
  return { ...settings, feedback: settings.feedback ?? false, native_language: settings.native_language ?? 'en' };
}
