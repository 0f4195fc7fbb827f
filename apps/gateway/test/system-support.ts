import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { LANGUAGE_CODES } from '@parley/contracts';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { writeTinyPiperVoice } from '@parley/models/fixtures/piper';
import { writeTinyWhisperModel } from '@parley/models/fixtures/whisper';
import { freePort, spawnService, startNatsServer, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import type { GatewayConfig } from '../src/config.js';
import type { EdgeConfig } from '../src/edge/edge-config.js';
import { startEdgeGateway } from './edge-support.js';
import { getJson, startLlmService, startTestGateway, STT_SERVICE_MAIN, TTS_SERVICE_MAIN, type TestGateway } from './support.js';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

export interface ModelServicesOptions {
  /** The llm-service on the "endless" generated model (it writes until max_tokens). */
  endless?: boolean;
  /** Extra environment of the llm-service. */
  llmEnv?: Record<string, string>;
  /** Seed of the generated whisper model (each seed transcribes differently). */
  whisperSeed?: number;
  /** The llm-service's HTTP port (its /metrics), when a test reads it. */
  llmHttpPort?: number;
}

/** The three model services on generated models written into `dir` (one tiny voice, `tiny`, for every language). */
export async function startModelServices(natsUrl: string, dir: string, options: ModelServicesOptions = {}): Promise<SpawnedService[]> {
  const gguf = await writeTinyGguf(join(dir, 'tiny.gguf'), { endless: options.endless ?? false });
  const whisper = await writeTinyWhisperModel(join(dir, 'whisper.bin'), options.whisperSeed === undefined ? {} : { seed: options.whisperSeed });
  const voice = await writeTinyPiperVoice(join(dir, 'voice'));
  return [
    startLlmService(natsUrl, gguf.path, options.llmHttpPort ?? (await freePort()), options.llmEnv),
    spawnService('stt-service', STT_SERVICE_MAIN, { NATS_URL: natsUrl, STT_MODEL_PATH: whisper.path, STT_HTTP_PORT: String(await freePort()) }),
    spawnService('tts-service', TTS_SERVICE_MAIN, {
      NATS_URL: natsUrl,
      TTS_HTTP_PORT: String(await freePort()),
      TTS_VOICES: JSON.stringify([{ id: 'tiny', languages: LANGUAGE_CODES, model: voice.model, tokens: voice.tokens }]),
    }),
  ];
}

export interface WholeSystem {
  nats: TestNatsServer;
  /** A scratch directory (the generated models live here), removed by stop(). */
  dir: string;
  services: SpawnedService[];
  gateway: TestGateway;
  stop(): Promise<void>;
}

/**
 * A private broker, the three model services on generated models and a gateway, every model
 * loaded (readiness 200). With `edge`, the gateway has those edge settings on top of the
 * defaults; without, no rate limit and no stream cap.
 */
export async function startWholeSystem(
  options: ModelServicesOptions & { edge?: Partial<EdgeConfig>; gateway?: Partial<GatewayConfig> } = {},
): Promise<WholeSystem> {
  const nats = await startNatsServer();
  const dir = await mkdtemp(join(tmpdir(), 'parley-system-'));
  const services = await startModelServices(nats.url, dir, options);
  const gateway = options.edge ? await startEdgeGateway(nats.url, options.edge, options.gateway) : await startTestGateway(nats.url, options.gateway);
  await waitUntil(async () => (await getJson(`${gateway.url}/api/health/ready`)).status === 200, 'every model to load', 90_000).catch((error) => {
    throw new Error(`${String(error)}\n${services.map((s) => `${s.name}:\n${s.output()}`).join('\n')}`);
  });
  return {
    nats,
    dir,
    services,
    gateway,
    stop: async () => {
      await gateway.close();
      await Promise.all(services.map((s) => s.stop()));
      await nats.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until the gateway reports the model of `role` loaded; on failure, shows the services' output. */
export async function waitForModel(gatewayUrl: string, role: 'llm' | 'stt' | 'tts', services: SpawnedService[] = []): Promise<void> {
  await waitUntil(
    async () => (await getJson(`${gatewayUrl}/api/health/models`)).body.models?.[role] === 'loaded',
    `the ${role} model to load`,
    60_000,
  ).catch((error) => {
    throw new Error(`${String(error)}\n${services.map((s) => `${s.name}:\n${s.output()}`).join('\n')}`);
  });
}

/** Debian's Chromium, headless, with a fake microphone playing `microphoneWav`. */
export function launchChromium(microphoneWav: string): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--autoplay-policy=no-user-gesture-required',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${microphoneWav}`,
    ],
  });
}

export interface LlmSystem {
  nats: TestNatsServer;
  gateway: TestGateway;
  llm: SpawnedService;
  /** The llm-service's /metrics. */
  llmMetricsUrl: string;
  /** A scratch directory removed by stop(). */
  dir: string;
  stop(): Promise<void>;
}

export interface LlmSystemOptions {
  /** An "endless" generated model: it writes until max_tokens, so a stream lasts long enough to hold open or abandon. */
  endless?: boolean;
  /** Extra environment of the llm-service (LLM_SEQUENCES, LLM_MAX_QUEUED, ...). */
  llmEnv?: Record<string, string>;
  /** Edge settings (keys, caps, ...) on top of the defaults; without them, no rate limit and no stream cap. */
  edge?: Partial<EdgeConfig>;
  gateway?: Partial<GatewayConfig>;
}

/** A private broker, an llm-service on a generated model and a gateway, the llm model loaded. */
export async function startLlmSystem(options: LlmSystemOptions = {}): Promise<LlmSystem> {
  const nats = await startNatsServer();
  const dir = await mkdtemp(join(tmpdir(), 'parley-llm-system-'));
  const model = await writeTinyGguf(join(dir, 'model.gguf'), { endless: options.endless ?? false });
  const port = await freePort();
  const llm = startLlmService(nats.url, model.path, port, options.llmEnv);
  // Without edge settings, the test gateway's: no rate limit and no stream cap.
  const gateway = options.edge ? await startEdgeGateway(nats.url, options.edge, options.gateway) : await startTestGateway(nats.url, options.gateway);
  await waitForModel(gateway.url, 'llm', [llm]);
  return {
    nats,
    gateway,
    llm,
    llmMetricsUrl: `http://127.0.0.1:${port}/metrics`,
    dir,
    stop: async () => {
      await gateway.close();
      await llm.stop();
      await nats.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TLS terminator in front of `targetPort` (as an ingress in production): TLS on its own port
 * with the given certificate, plain TCP to the target. WebSocket upgrades pass through untouched.
 */
export async function startTlsTerminator(targetPort: number, tls: { certPath: string; keyPath: string }): Promise<{ port: number; close(): Promise<void> }> {
  const server = createTlsServer({ cert: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) }, (client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
