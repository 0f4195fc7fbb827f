import { Inject, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import { LIVE_CLOSE_CODES, LIVE_MAX_MESSAGE_BYTES, ParleyError } from '@parley/contracts';
import type { WebSocket } from 'ws';
import type { GatewayConfig } from '../config.js';
import { GATEWAY_CONFIG } from '../tokens.js';
import { LiveAdmission } from './live-admission.js';
import { LiveConversationFactory } from './live-conversation.factory.js';
import { LiveGatewayMetrics } from './live-metrics.js';
import type { LiveConversation } from './live-conversation.js';
import { ADMISSION, type AdmittedRequest } from './live-ws.adapter.js';

/**
 * GET /api/conversation/live, upgraded to a WebSocket (admission ran before the upgrade, in
 * LiveWsAdapter). Transport only: bytes and JSON in, `{event, data}` out; the conversation
 * decides. A message over 1 MiB closes the socket with 1009 (ws's maxPayload).
 */
@WebSocketGateway({ path: '/api/conversation/live', maxPayload: LIVE_MAX_MESSAGE_BYTES })
export class LiveWsGateway implements OnGatewayConnection, BeforeApplicationShutdown {
  private readonly logger = new Logger('live');
  private readonly open = new Map<WebSocket, LiveConversation>();

  constructor(
    @Inject(LiveConversationFactory) private readonly conversations: LiveConversationFactory,
    @Inject(LiveAdmission) private readonly admission: LiveAdmission,
    @Inject(LiveGatewayMetrics) private readonly metrics: LiveGatewayMetrics,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  handleConnection(socket: WebSocket, request: AdmittedRequest): void {
    const admitted = request[ADMISSION];
    if (!admitted) {
      socket.close(1008, 'not admitted');
      return;
    }
    const closed = this.admission.opened(admitted.client);
    this.metrics.connections.inc();
    const conversation = this.conversations.create(admitted.query, {
      send: (event, data) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ event, data }));
      },
      close: (code, reason) => socket.close(code, reason),
    }, admitted.learnerSpace);
    this.open.set(socket, conversation);
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) conversation.audio(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      else conversation.message(data.toString('utf8'));
    });
    socket.once('close', () => {
      this.open.delete(socket);
      conversation.dispose();
      closed();
      this.metrics.connections.dec();
    });
    conversation.start();
  }

  get openCount(): number {
    return this.open.size;
  }

  /** Before the server stops (if the drain has not closed them yet): the same as closeAfterTurns. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.closeAfterTurns(
      this.config.liveShutdownGraceMs,
      new ParleyError('SERVICE_UNAVAILABLE', 'the gateway shut down before finishing this turn; try again'),
    );
  }

  /**
   * Each socket is closed with 1012 (reconnect) once its turn in progress has ended; a turn still
   * running after `graceMs` ends with one `error` (`failure`, nothing stored) before its socket closes.
   */
  async closeAfterTurns(graceMs: number, failure: ParleyError): Promise<void> {
    if (this.open.size === 0) return;
    this.logger.log(`closing ${this.open.size} live socket(s) (1012) after their turns in progress`);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.all(
      [...this.open].map(async ([socket, conversation]) => {
        await Promise.race([conversation.whenIdle(), grace]);
        conversation.abandonTurn(failure);
        socket.close(LIVE_CLOSE_CODES.restarting, 'server restarting: reconnect with the same session_id');
        // Now, while the broker connection is still open: its stt stream is cancelled in its replica.
        conversation.dispose();
      }),
    );
    clearTimeout(timer);
  }
}
