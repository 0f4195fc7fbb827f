import type { Logger } from '@nestjs/common';
import { LIVE_CLOSE_CODES } from '@parley/contracts';
import type { WebSocket } from 'ws';

/** What shutting a conversation socket down needs of its conversation. */
export interface ClosableConversation {
  /** Resolves when no turn is in progress. */
  whenIdle(): Promise<void>;
  dispose(): void;
}

/**
 * Before the server stops: each socket is closed with 1012 once its turn in progress has ended
 * (at most `graceMs`), and its conversation disposed while the broker connection is still open
 * (so its stt stream is cancelled in its replica).
 */
export async function closeForShutdown(open: Map<WebSocket, ClosableConversation>, graceMs: number, logger: Logger): Promise<void> {
  if (open.size === 0) return;
  logger.log(`closing ${open.size} socket(s) (1012) after their turns in progress`);
  const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
  await Promise.all(
    [...open].map(async ([socket, conversation]) => {
      await Promise.race([conversation.whenIdle(), grace]);
      socket.close(LIVE_CLOSE_CODES.restarting, 'server restarting: reconnect with the same session_id');
      conversation.dispose();
    }),
  );
}
