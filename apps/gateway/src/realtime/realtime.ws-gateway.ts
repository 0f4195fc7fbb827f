import { Inject, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import { REALTIME_MAX_MESSAGE_BYTES, realtimeQuerySchema, type RealtimeQuery } from '@parley/contracts';
import type { WebSocket } from 'ws';
import type { GatewayConfig } from '../config.js';
import { LiveConversationFactory } from '../live/live-conversation.factory.js';
import { LiveGatewayMetrics } from '../live/live-metrics.js';
import { ADMISSION, type AdmittedRequest } from '../live/live-ws.adapter.js';
import { ConversationSockets, sendIfOpen } from '../live/conversation-sockets.js';
import { GATEWAY_CONFIG } from '../tokens.js';
import { TtsVoicesClient } from '../voices/tts-voices.client.js';
import { RealtimeConversation } from './realtime-conversation.js';

/** Browsers (the SDK's OpenAIRealtimeWebSocket) offer `realtime` and carry their key in another subprotocol: only `realtime` is ever chosen. */
function chooseProtocol(protocols: Set<string>): string | false {
  return protocols.has('realtime') ? 'realtime' : false;
}

/**
 * GET /v1/realtime, upgraded to a WebSocket: OpenAI's Realtime protocol (the subset in
 * docs/openai.md) over the live conversation core. The edge's admission ran before the upgrade
 * (errors in OpenAI's shape under /v1). Transport only: JSON client events in, server events out;
 * a message over 1 MiB closes the socket with 1009; closing the socket cancels all its work.
 */
@WebSocketGateway({ path: '/v1/realtime', maxPayload: REALTIME_MAX_MESSAGE_BYTES, querySchema: realtimeQuerySchema, handleProtocols: chooseProtocol })
export class RealtimeWsGateway implements OnGatewayConnection, BeforeApplicationShutdown {
  private readonly sockets: ConversationSockets;

  constructor(
    @Inject(LiveConversationFactory) private readonly conversations: LiveConversationFactory,
    @Inject(TtsVoicesClient) private readonly voices: TtsVoicesClient,
    @Inject(LiveGatewayMetrics) metrics: LiveGatewayMetrics,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.sockets = new ConversationSockets(metrics, new Logger('realtime'));
  }

  handleConnection(socket: WebSocket, request: AdmittedRequest<RealtimeQuery>): void {
    const admitted = request[ADMISSION];
    if (!admitted) {
      socket.close(1008, 'not admitted');
      return;
    }
    const realtime = new RealtimeConversation(
      admitted.query,
      (send, behaviour) => this.conversations.create(admitted.query, { send, close: (code, reason) => socket.close(code, reason) }, behaviour),
      {
        send: (json) => sendIfOpen(socket, json),
        residentVoices: async () => (await this.voices.residentVoices())?.voices.map((voice) => voice.id),
      },
    );
    this.sockets.serve(socket, realtime.core, (data, isBinary) => {
      if (isBinary) realtime.binary();
      else realtime.message(data.toString('utf8'));
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.sockets.closeAll(this.config.liveShutdownGraceMs);
  }

  /** The open sockets, for a draining replica (GatewayShutdown): `closeAll` with its grace period and error. */
  get openSockets(): ConversationSockets {
    return this.sockets;
  }
}
