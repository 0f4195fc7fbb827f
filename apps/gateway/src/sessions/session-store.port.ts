import type { StoredMessage } from '@parley/contracts';

/** Conversation history per session, shared by every gateway replica and kept across restarts. */
export interface SessionStore {
  /** The session's messages, oldest first; empty for a session never seen (or expired). */
  messages(sessionId: string): Promise<StoredMessage[]>;
  /** Appends one turn atomically: the learner's message and the answer (none when a live turn was cut before any was heard). */
  appendTurn(sessionId: string, turn: [StoredMessage, StoredMessage?]): Promise<void>;
  clear(sessionId: string): Promise<void>;
}

export const SESSION_STORE = Symbol('SESSION_STORE');
