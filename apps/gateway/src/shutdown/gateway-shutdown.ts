import { Inject, Injectable, Logger } from '@nestjs/common';
import { ParleyError } from '@parley/contracts';
import type { GatewayConfig } from '../config.js';
import { LiveTurns } from '../live/live-turns.js';
import { LiveWsGateway } from '../live/live.ws-gateway.js';
import { RealtimeWsGateway } from '../realtime/realtime.ws-gateway.js';
import { GATEWAY_CONFIG } from '../tokens.js';
import { GatewayDrain } from './gateway-drain.js';

/**
 * SIGTERM on a gateway replica (a rollout, a scale-down): stop taking work, let the turns under
 * way finish within `shutdownGraceMs` (inside Kubernetes' default 30 s terminationGracePeriod),
 * then end what is left with one error each. The caller closes the app afterwards.
 */
@Injectable()
export class GatewayShutdown {
  private readonly logger = new Logger('gateway-shutdown');

  constructor(
    @Inject(GatewayDrain) private readonly drain: GatewayDrain,
    @Inject(LiveWsGateway) private readonly live: LiveWsGateway,
    @Inject(RealtimeWsGateway) private readonly realtime: RealtimeWsGateway,
    @Inject(LiveTurns) private readonly liveTurns: LiveTurns,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async drainThenStop(): Promise<void> {
    this.drain.begin();
    const graceMs = this.config.shutdownGraceMs;
    const sockets = [this.live.openSockets, this.realtime.openSockets];
    const open = sockets.reduce((sum, s) => sum + s.count, 0);
    this.logger.log(`draining: ${this.drain.work.count} turn(s) and ${open} socket(s) under way, waiting up to ${graceMs} ms`);
    const failure = new ParleyError(
      'SERVICE_UNAVAILABLE',
      'the gateway replica shut down before finishing this turn; try again',
    );
    // Sockets (live, Realtime) are closed with 1012 as their turns end; the streams are waited for.
    const [drained] = await Promise.all([this.drain.work.settled(graceMs), ...sockets.map((s) => s.closeAll(graceMs, failure))]);
    if (!drained) {
      this.logger.warn(`grace period over: ending ${this.drain.work.count} turn(s) still under way`);
      this.drain.work.stopAll(failure);
      // The error events are written synchronously; give the sockets a moment to send them.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // A live turn is stored once heard, just after its `complete`: let those stores reach the broker.
    await this.liveTurns.storesSettled();
    this.logger.log('drained');
  }
}
