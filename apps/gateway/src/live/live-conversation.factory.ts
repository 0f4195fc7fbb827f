import { Inject, Injectable } from '@nestjs/common';
import type { LiveQuery } from '@parley/contracts';
import type { GatewayConfig } from '../config.js';
import { newSessionId } from '../conversation/turn/turn-context.js';
import { SttLiveClient } from '../services/stt-live.client.js';
import { GATEWAY_CONFIG } from '../tokens.js';
import { LIVE_SOCKET_BEHAVIOUR, LiveConversation, type LiveBehaviour } from './live-conversation.js';
import { LiveGatewayMetrics } from './live-metrics.js';
import { LiveTurns } from './live-turns.js';

/** Builds one LiveConversation per socket, wired to the stt live client, the turns and the metrics. */
@Injectable()
export class LiveConversationFactory {
  constructor(
    @Inject(SttLiveClient) private readonly stt: SttLiveClient,
    @Inject(LiveTurns) private readonly turns: LiveTurns,
    @Inject(LiveGatewayMetrics) private readonly metrics: LiveGatewayMetrics,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** `learnerSpace`: the caller's API key id, within which its learner ids live (as on HTTP routes). */
  create(
    query: LiveQuery,
    socket: { send(event: string, data: object): void; close(code: number, reason: string): void },
    behaviour: LiveBehaviour = LIVE_SOCKET_BEHAVIOUR,
    learnerSpace?: string,
  ): LiveConversation {
    const sessionId = query.session_id ?? newSessionId();
    return new LiveConversation(
      query,
      sessionId,
      {
        openStt: (startSample, { detection, language }) => this.stt.open({ language, startSample, detection }),
        answer: (settings, text) => this.turns.answer(settings, text, learnerSpace),
        store: (settings, text, heard) => this.turns.store(settings, text, heard),
        send: socket.send,
        close: socket.close,
        metrics: this.metrics,
      },
      { idleTimeoutMs: this.config.liveIdleTimeoutMs, sttKeepaliveMs: 10_000 },
      behaviour,
    );
  }
}
