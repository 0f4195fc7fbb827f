import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { describeIssues, liveQuerySchema, type LiveQuery } from '@parley/contracts';
import type { GatewayConfig } from '../config.js';
import { presentedApiKey } from '../edge/api-keys.js';
import { EdgeAccess } from '../edge/edge-access.js';
import { DRAINING_RETRY_AFTER_SECONDS, GatewayDrain } from '../shutdown/gateway-drain.js';
import { GATEWAY_CONFIG } from '../tokens.js';
import { UPGRADE_ACCESS, type UpgradeAccess } from './upgrade-access.js';

export type Admission =
  | {
      admitted: true;
      query: LiveQuery;
      client: string;
      /** The caller's API key id (as an HTTP route's `learnerSpace`): its learner ids live there. */
      learnerSpace?: string;
    }
  | { admitted: false; status: number; body: { statusCode: number; error: string; message: string; code: string }; headers?: Record<string, string> };

const REFUSALS: Record<number, { error: string; code: string }> = {
  400: { error: 'Bad Request', code: 'INVALID_REQUEST' },
  401: { error: 'Unauthorized', code: 'UNAUTHORIZED' },
  403: { error: 'Forbidden', code: 'FORBIDDEN' },
  429: { error: 'Too Many Requests', code: 'TOO_MANY_REQUESTS' },
  503: { error: 'Service Unavailable', code: 'SERVICE_UNAVAILABLE' },
};

function refuse(status: number, message: string, headers?: Record<string, string>): Admission {
  const { error, code } = REFUSALS[status]!;
  return { admitted: false, status, body: { statusCode: status, error, message, code }, ...(headers ? { headers } : {}) };
}

/**
 * Decides on a live socket before the upgrade, so a refusal is a plain HTTP answer with the
 * error body: access (key, browser origin), the query, and the connections per client.
 */
@Injectable()
export class LiveAdmission {
  private readonly connections = new Map<string, number>();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(UPGRADE_ACCESS) private readonly access: UpgradeAccess,
    @Inject(EdgeAccess) private readonly edge: EdgeAccess,
    @Inject(GatewayDrain) private readonly drain: GatewayDrain,
  ) {}

  admit(request: IncomingMessage): Admission {
    // A replica shutting down takes no new socket: the client reconnects through the balancer.
    if (this.drain.draining) return refuse(503, this.drain.refusal().message, { 'Retry-After': String(DRAINING_RETRY_AFTER_SECONDS) });
    const params = new URL(request.url ?? '/', 'http://gateway').searchParams;
    const refusal = this.access.check(request, params);
    if (refusal) return refuse(refusal.status, refusal.message);
    const parsed = liveQuerySchema.safeParse(Object.fromEntries(params));
    if (!parsed.success) return refuse(400, `Invalid query: ${describeIssues(parsed.error)}`);
    const client = request.socket.remoteAddress ?? 'unknown';
    const open = this.connections.get(client) ?? 0;
    if (open >= this.config.liveMaxConnectionsPerClient) {
      return refuse(429, `too many live connections from this client: at most ${this.config.liveMaxConnectionsPerClient}`);
    }
    return { admitted: true, query: parsed.data, client, learnerSpace: this.learnerSpace(request) };
  }

  /** As for HTTP routes: with keys configured, the id of the (already checked) key presented; else none. */
  private learnerSpace(request: IncomingMessage): string | undefined {
    if (!this.edge.keys.required) return undefined;
    const presented = presentedApiKey(request);
    return presented === undefined ? undefined : this.edge.keys.identify(presented);
  }

  /** Counts an open socket of `client`; the returned function uncounts it (once). */
  opened(client: string): () => void {
    this.connections.set(client, (this.connections.get(client) ?? 0) + 1);
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      const left = (this.connections.get(client) ?? 1) - 1;
      if (left > 0) this.connections.set(client, left);
      else this.connections.delete(client);
    };
  }
}
