import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
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

/** How a WebSocket upgrade went: `upgraded` (then closed again), or the HTTP answer that refused it. */
export function upgradeOutcome(
  url: string,
  options: { headers?: Record<string, string>; protocols?: string[]; rejectUnauthorized?: boolean } = {},
): Promise<'upgraded' | { status: number; headers: Record<string, string | string[] | undefined>; body: any }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options.protocols ?? [], { headers: options.headers, rejectUnauthorized: options.rejectUnauthorized });
    socket.once('open', () => {
      socket.close();
      resolve('upgraded');
    });
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: JSON.parse(body) }));
    });
    socket.once('error', reject);
  });
}

export type { TestGateway };
