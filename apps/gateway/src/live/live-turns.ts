import { Inject, Injectable } from '@nestjs/common';
import type { LiveQuery } from '@parley/contracts';
import type { Observable } from 'rxjs';
import { ConversationTurnUseCase, turnContext } from '../conversation/conversation-turn.use-case.js';
import { SESSION_STORE, type SessionStore } from '../sessions/session-store.port.js';
import type { AnswerEvent } from './live-conversation.js';

type LiveSettings = LiveQuery & { session_id: string };

/** The turn use case as a live conversation uses it: spoken answers it stores itself. */
@Injectable()
export class LiveTurns {
  constructor(
    @Inject(ConversationTurnUseCase) private readonly turns: ConversationTurnUseCase,
    @Inject(SESSION_STORE) private readonly sessions: SessionStore,
  ) {}

  answer(settings: LiveSettings, userText: string): Observable<AnswerEvent> {
    const turn = turnContext({ ...settings, tts: true });
    turn.store = false;
    return this.turns.reply(turn, userText);
  }

  async store(settings: LiveSettings, userText: string, heard: string): Promise<void> {
    const language = settings.language;
    await this.sessions.appendTurn(settings.session_id, [
      { role: 'user', content: userText, language },
      heard ? { role: 'assistant', content: heard, language } : undefined,
    ]);
  }
}
