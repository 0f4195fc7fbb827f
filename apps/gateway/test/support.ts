import type { INestApplication } from '@nestjs/common';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { fileURLToPath } from 'node:url';
import { loadGatewayConfig, type GatewayConfig } from '../src/config.js';
import { startGateway } from '../src/server.js';
import { freePort, spawnService, type SpawnedService } from '@parley/service-kit/testing';

export const LLM_SERVICE_MAIN = fileURLToPath(new URL('../../llm-service/dist/main.js', import.meta.url));

export interface SseEventRecord {
  event: string;
  data: Record<string, unknown>;
}

export interface SseReadOptions {
  /** Stop reading (disconnect) once this returns true for an event. */
  disconnectWhen?: (event: SseEventRecord) => boolean;
}

/** POSTs JSON and reads the SSE answer with a spec-compliant parser (as a browser would). */
export async function postSse(url: string, body: unknown, options: SseReadOptions = {}) {
  const abort = new AbortController();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
    body: JSON.stringify(body),
    signal: abort.signal,
  });
  return readSse(res, abort, options);
}

export async function readSse(res: Response, abort: AbortController, options: SseReadOptions = {}) {
  const events: SseEventRecord[] = [];
  let disconnected = false;
  const parser = createParser({
    onEvent: (message: EventSourceMessage) => {
      if (disconnected) return;
      const record = { event: message.event ?? 'message', data: JSON.parse(message.data) as Record<string, unknown> };
      events.push(record);
      if (options.disconnectWhen?.(record)) {
        disconnected = true;
        abort.abort();
      }
    },
  });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (disconnected) break;
    }
  } catch (error) {
    if (!disconnected) throw error;
  }
  return { status: res.status, headers: res.headers, events, disconnected };
}

export function startLlmService(natsUrl: string, modelPath: string, httpPort: number, extraEnv: Record<string, string> = {}): SpawnedService {
  return spawnService('llm-service', LLM_SERVICE_MAIN, {
    NATS_URL: natsUrl,
    LLM_MODEL_PATH: modelPath,
    LLM_THREADS: '1',
    LLM_HTTP_PORT: String(httpPort),
    LOG_LEVEL: 'log',
    ...extraEnv,
  });
}

export interface TestGateway {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

export async function startTestGateway(natsUrl: string, overrides: Partial<GatewayConfig> = {}): Promise<TestGateway> {
  process.env.NATS_URL = natsUrl;
  const config = { ...loadGatewayConfig({}), port: await freePort(), ...overrides };
  const app = await startGateway(config);
  const url = `http://127.0.0.1:${config.port}`;
  return { app, url, close: () => app.close() };
}

export async function getJson(url: string) {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

export async function postJson(url: string, body: unknown, init: RequestInit = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}
