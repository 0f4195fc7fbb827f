import { randomUUID } from 'node:crypto';
import type { GatewayConfig } from '../src/config.js';
import type { EdgeConfig } from '../src/edge/edge-config.js';
import { loadGatewayConfig } from '../src/config.js';
import { startTestGateway, type TestGateway } from './support.js';

/**
 * A gateway with its own edge settings (keys, origins, proxies, caps) and its own rate-limit
 * bucket, so suites sharing a broker never share budgets by accident.
 */
export function startEdgeGateway(natsUrl: string, edge: Partial<EdgeConfig> = {}, overrides: Partial<GatewayConfig> = {}): Promise<TestGateway> {
  const defaults = loadGatewayConfig({}).edge;
  return startTestGateway(natsUrl, {
    ...overrides,
    edge: { ...defaults, rateLimitBucket: `limits_${randomUUID().slice(0, 8)}`, ...edge },
  });
}

/** POSTs an empty message: answered 400 at once by a gateway that let it through the edge (no service needed). */
export function postEmptyMessage(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/api/conversation/text`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ message: '' }),
  });
}

/** Statuses of `count` empty-message POSTs sent one after another. */
export async function statusesOf(count: number, send: () => Promise<Response>): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const res = await send();
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  return statuses;
}

export type { TestGateway };
