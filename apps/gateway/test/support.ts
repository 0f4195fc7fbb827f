import type { INestApplication } from '@nestjs/common';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadGatewayConfig, type GatewayConfig } from '../src/config.js';
import { startGateway } from '../src/server.js';
import { cancelSubject, type ServiceName } from '@parley/contracts';
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
  // No rate limit or stream cap unless a test asks for one: suites send many requests from one address.
  const defaults = loadGatewayConfig({});
  const config = { ...defaults, port: await freePort(), rateLimitPerMinute: 0, edge: { ...defaults.edge, maxStreamsPerClient: 0 }, ...overrides };
  const app = await startGateway(config);
  const url = `http://127.0.0.1:${config.port}`;
  // Idempotent: a suite may close a gateway mid-test (a restart) and again in its teardown.
  let closing: Promise<void> | undefined;
  return { app, url, close: () => (closing ??= app.close()) };
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

export const STT_SERVICE_MAIN = fileURLToPath(new URL('../../stt-service/dist/main.js', import.meta.url));
export const GATEWAY_MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/**
 * The built gateway as its own process (its signal handling, or a test process kept idle), with
 * no rate limit or stream cap; `url` once it listens (wait for the models with waitForModel).
 */
export async function spawnGateway(natsUrl: string, env: Record<string, string> = {}): Promise<{ service: SpawnedService; url: string }> {
  const port = await freePort();
  const service = spawnService('gateway', GATEWAY_MAIN, {
    NATS_URL: natsUrl,
    PORT: String(port),
    RATE_LIMIT_PER_MINUTE: '0',
    MAX_STREAMS_PER_CLIENT: '0',
    LOG_LEVEL: 'log',
    ...env,
  });
  return { service, url: `http://127.0.0.1:${port}` };
}
export const TTS_SERVICE_MAIN = fileURLToPath(new URL('../../tts-service/dist/main.js', import.meta.url));

/** Runs a command (argument array, no shell) and fails loudly with its output. */
export function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}): ${result.stderr}`);
  }
}

/** Spoken English as a WAV file (espeak-ng), then other containers with ffmpeg. */
export function makeSpeech(dir: string, text: string) {
  const wav = join(dir, 'speech.wav');
  run('espeak-ng', ['-w', wav, text]);
  const webm = join(dir, 'speech.webm');
  run('ffmpeg', ['-y', '-loglevel', 'error', '-i', wav, '-c:a', 'libopus', '-b:a', '32k', webm]);
  const stereo = join(dir, 'speech-stereo-44k.wav');
  run('ffmpeg', ['-y', '-loglevel', 'error', '-i', wav, '-ac', '2', '-ar', '44100', stereo]);
  return { wav, webm, stereo };
}

/** POSTs a multipart form (like a browser's FormData upload). */
export async function postForm(url: string, fields: Record<string, string>, file?: { field: string; name: string; bytes: Uint8Array }) {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  if (file) form.append(file.field, new Blob([file.bytes as Uint8Array<ArrayBuffer>]), file.name);
  return fetch(url, { method: 'POST', body: form });
}

/** The parts of a 16-bit PCM WAV that tests check. */
export function parseWav(bytes: Uint8Array) {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.toString('ascii', 0, 4) !== 'RIFF' || view.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a WAV file');
  const channels = view.readUInt16LE(22);
  const sampleRate = view.readUInt32LE(24);
  const bitsPerSample = view.readUInt16LE(34);
  const dataBytes = view.readUInt32LE(40);
  return { channels, sampleRate, bitsPerSample, dataBytes, samples: dataBytes / (bitsPerSample / 8) / channels, fileBytes: view.length };
}

/**
 * The process (pid) whose broker connection listens for the cancel of a `service` request under
 * way: the replica that has taken it (it subscribes just before starting its work). Read from the
 * broker's monitoring (/connz, a nats-server started with `monitor: true`) and `ss`. Undefined
 * while no replica has taken one.
 */
export async function replicaTakingRequest(monitorUrl: string, service: ServiceName): Promise<number | undefined> {
  const prefix = cancelSubject(service, '');
  const connz = (await (await fetch(`${monitorUrl}/connz?subs=1`)).json()) as { connections?: Array<{ port: number; subscriptions_list?: string[] }> };
  const taker = connz.connections?.find((c) => c.subscriptions_list?.some((subject) => subject.startsWith(prefix) && !subject.endsWith('>')));
  if (!taker) return undefined;
  const sockets = spawnSync('ss', ['-Htnp', 'state', 'established', `( sport = :${taker.port} )`], { encoding: 'utf8' }).stdout;
  const pid = /pid=(\d+)/.exec(sockets)?.[1];
  return pid ? Number(pid) : undefined;
}

/** A throwaway self-signed certificate for localhost (openssl), valid for a day: its PEM files in `dir`. */
export function selfSignedCertificate(dir: string): { certPath: string; keyPath: string } {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=localhost']);
  return { certPath, keyPath };
}
