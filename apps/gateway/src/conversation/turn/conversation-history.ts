import { Inject, Injectable, Logger } from '@nestjs/common';
import { LLM_LIMITS, type ChatMessage } from '@parley/contracts';
import type { GatewayConfig } from '../../config.js';
import { SESSION_STORE, type SessionStore } from '../../sessions/session-store.port.js';
import { GATEWAY_CONFIG } from '../../tokens.js';
import { buildSystemPrompt } from '../prompts.js';
import type { TurnContext } from './turn-context.js';

/** A session's history: what the LLM reads before the learner's message, and where a finished turn is kept. */
@Injectable()
export class ConversationHistory {
  private readonly logger = new Logger('turns');

  constructor(
    @Inject(SESSION_STORE) private readonly sessions: SessionStore,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /**
   * The system prompt, the last HISTORY_TURNS turns (the request's, else the stored ones), the
   * learner's message: always within what the llm-service accepts (LLM_LIMITS), so a long
   * stored answer or a large HISTORY_TURNS never makes the next turn fail. Older messages go
   * first; a message too long keeps its end (the part nearest the conversation's present).
   */
  async chatMessages(turn: TurnContext, userText: string): Promise<ChatMessage[]> {
    const history = turn.history ?? (await this.sessions.messages(turn.sessionId));
    const turns = Math.min(this.config.historyTurns, Math.floor((LLM_LIMITS.maxMessages - 2) / 2));
    const recent = turns === 0 ? [] : history.slice(-2 * turns);
    const fit = (content: string) => content.slice(-LLM_LIMITS.maxMessageChars);
    return [
      { role: 'system', content: buildSystemPrompt(turn.settings) },
      ...recent.map(({ role, content }) => ({ role, content: fit(content) })),
      { role: 'user', content: fit(userText) },
    ];
  }

  /**
   * Stores a turn: the learner's words and the answer (none when it is empty: a live turn cut
   * before any of it was heard). The learner already has the answer: losing it from history is
   * bad, failing the turn is worse.
   */
  async store(turn: Pick<TurnContext, 'sessionId' | 'settings'>, userText: string, answer: string): Promise<void> {
    const language = turn.settings.language;
    try {
      await this.sessions.appendTurn(turn.sessionId, [
        { role: 'user', content: userText, language },
        answer ? { role: 'assistant', content: answer, language } : undefined,
      ]);
    } catch (error) {
      this.logger.error(`turn of session ${turn.sessionId} not stored: ${String(error)}`);
    }
  }
}
