import { Inject, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import { LIVE_MAX_MESSAGE_BYTES, liveQuerySchema, type LiveQuery } from '@parley/contracts';
import type { WebSocket } from 'ws';
import type { GatewayConfig } from '../config.js';
import { GATEWAY_CONFIG } from '../tokens.js';
import { LiveConversationFactory } from './live-conversation.factory.js';
import { LiveGatewayMetrics } from './live-metrics.js';
import { ConversationSockets, sendIfOpen } from './conversation-sockets.js';
import { ADMISSION, type AdmittedRequest } from './live-ws.adapter.js';

/**
 * GET /api/conversation/live, upgraded to a WebSocket (the edge's admission and the query ran
 * before the upgrade, in LiveWsAdapter). Transport only: bytes and JSON in, `{event, data}` out; the conversation
 * decides. A message over 1 MiB closes the socket with 1009 (ws's maxPayload).
 */
@WebSocketGateway({ path: '/api/conversation/live', maxPayload: LIVE_MAX_MESSAGE_BYTES, querySchema: liveQuerySchema })
export class LiveWsGateway implements OnGatewayConnection, BeforeApplicationShutdown {
  private readonly sockets: ConversationSockets;

  constructor(
    @Inject(LiveConversationFactory) private readonly conversations: LiveConversationFactory,
    @Inject(LiveGatewayMetrics) metrics: LiveGatewayMetrics,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.sockets = new ConversationSockets(metrics, new Logger('live'));
  }

  handleConnection(socket: WebSocket, request: AdmittedRequest<LiveQuery>): void {
    const admitted = request[ADMISSION];
    if (!admitted) {
      socket.close(1008, 'not admitted');
      return;
    }
    const conversation = this.conversations.create(admitted.query, {
      send: (event, data) => sendIfOpen(socket, JSON.stringify({ event, data })),
      close: (code, reason) => socket.close(code, reason),
    }, undefined, admitted.client.keyId);
    this.sockets.serve(socket, conversation, (data, isBinary) => {
      if (isBinary) conversation.audio(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      else conversation.message(data.toString('utf8'));
    });
  }

  /** Before the server stops: each socket is closed with 1012 once its turn in progress has ended. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.sockets.closeAll(this.config.liveShutdownGraceMs);
  }

  /** The open sockets, for a draining replica (GatewayShutdown): `closeAll` with its grace period and error. */
  get openSockets(): ConversationSockets {
    return this.sockets;
  }
}
