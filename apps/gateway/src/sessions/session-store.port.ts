import type { StoredMessage } from '@parley/contracts';

/** Conversation history per session, shared by every gateway replica and kept across restarts. */
export interface SessionStore {
  /** The session's messages, oldest first; empty for a session never seen (or expired). */
  messages(sessionId: string): Promise<StoredMessage[]>;
  /** Appends one completed turn (the learner's message and the answer) atomically. */
  appendTurn(sessionId: string, turn: [StoredMessage, StoredMessage]): Promise<void>;
  clear(sessionId: string): Promise<void>;
}

export const SESSION_STORE = Symbol('SESSION_STORE');
