import type { Logger } from '@nestjs/common';
import { LIVE_CLOSE_CODES, ParleyError } from '@parley/contracts';
import type { WebSocket } from 'ws';
import type { LiveGatewayMetrics } from './live-metrics.js';

/** What serving a conversation socket needs of its conversation (the live core). */
export interface ServedConversation {
  start(): void;
  /** Resolves when no turn is in progress. */
  whenIdle(): Promise<void>;
  /** Ends the turn in progress, if any, with one `error` (`failure`); nothing of it is stored. */
  abandonTurn(failure: ParleyError): void;
  dispose(): void;
}

/**
 * The open sockets of one conversation protocol (the live socket, OpenAI Realtime): each is
 * counted while open, its messages go to its protocol, and closing it disposes its conversation
 * (all its work stops). On shutdown each is closed with 1012 once its turn in progress has ended.
 */
export class ConversationSockets {
  private readonly open = new Map<WebSocket, ServedConversation>();

  constructor(
    private readonly metrics: LiveGatewayMetrics,
    private readonly logger: Logger,
  ) {}

  get count(): number {
    return this.open.size;
  }

  serve(socket: WebSocket, conversation: ServedConversation, onMessage: (data: Buffer, isBinary: boolean) => void): void {
    this.metrics.connections.inc();
    this.open.set(socket, conversation);
    socket.on('message', onMessage);
    socket.once('close', () => {
      this.open.delete(socket);
      conversation.dispose();
      this.metrics.connections.dec();
    });
    conversation.start();
  }

  /**
   * Before the server stops: each socket is closed with 1012 once its turn in progress has ended;
   * a turn still running after `graceMs` ends with one `error` (`failure`, nothing stored) first.
   * Its conversation is disposed while the broker connection is still open (so its stt stream is
   * cancelled in its replica).
   */
  async closeAll(
    graceMs: number,
    failure = new ParleyError('SERVICE_UNAVAILABLE', 'the gateway replica shut down before finishing this turn; try again'),
  ): Promise<void> {
    if (this.open.size === 0) return;
    this.logger.log(`closing ${this.open.size} socket(s) (1012) after their turns in progress`);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.all(
      [...this.open].map(async ([socket, conversation]) => {
        await Promise.race([conversation.whenIdle(), grace]);
        conversation.abandonTurn(failure);
        socket.close(LIVE_CLOSE_CODES.restarting, 'server restarting: reconnect with the same session_id');
        conversation.dispose();
      }),
    );
    clearTimeout(timer);
  }
}

/** Sends `text` unless the socket has started closing. */
export function sendIfOpen(socket: WebSocket, text: string): void {
  if (socket.readyState === socket.OPEN) socket.send(text);
}
