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
import { freePort, spawnService, startNatsServer, waitUntil, type SpawnedService } from '@parley/service-kit/testing';
import type { GatewayConfig } from '../src/config.js';
import type { EdgeConfig } from '../src/edge/edge-config.js';
import { startEdgeGateway } from './edge-support.js';
import { getJson, startLlmService, STT_SERVICE_MAIN, TTS_SERVICE_MAIN, type TestGateway } from './support.js';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

/** The three model services on generated models written into `dir` (one tiny voice, `tiny`, for every language). */
export async function startModelServices(
  natsUrl: string,
  dir: string,
  options: { endless?: boolean; llmHttpPort?: number } = {},
): Promise<SpawnedService[]> {
  // Endless: the answer goes on until the token limit (long enough to cancel mid-answer).
  const gguf = await writeTinyGguf(join(dir, 'tiny.gguf'), { endless: options.endless ?? false });
  const whisper = await writeTinyWhisperModel(join(dir, 'whisper.bin'));
  const voice = await writeTinyPiperVoice(join(dir, 'voice'));
  return [
    startLlmService(natsUrl, gguf.path, options.llmHttpPort ?? (await freePort())),
    spawnService('stt-service', STT_SERVICE_MAIN, { NATS_URL: natsUrl, STT_MODEL_PATH: whisper.path, STT_HTTP_PORT: String(await freePort()) }),
    spawnService('tts-service', TTS_SERVICE_MAIN, {
      NATS_URL: natsUrl,
      TTS_HTTP_PORT: String(await freePort()),
      TTS_VOICES: JSON.stringify([{ id: 'tiny', languages: LANGUAGE_CODES, model: voice.model, tokens: voice.tokens }]),
    }),
  ];
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

export interface EndlessLlmSystem {
  gateway: TestGateway;
  llm: SpawnedService;
  /** The llm-service's /metrics. */
  llmMetricsUrl: string;
  stop(): Promise<void>;
}

/**
 * A private broker, an llm-service on an "endless" generated model (it writes until max_tokens, so
 * a stream lasts long enough to hold open or abandon) and a gateway with the given edge settings.
 */
export async function startEndlessLlmSystem(edge: Partial<EdgeConfig> = {}, overrides: Partial<GatewayConfig> = {}): Promise<EndlessLlmSystem> {
  const nats = await startNatsServer();
  const dir = await mkdtemp(join(tmpdir(), 'parley-endless-'));
  const model = await writeTinyGguf(join(dir, 'endless.gguf'), { endless: true });
  const port = await freePort();
  const llm = startLlmService(nats.url, model.path, port);
  const gateway = await startEdgeGateway(nats.url, edge, overrides);
  await waitForModel(gateway.url, 'llm', [llm]);
  return {
    gateway,
    llm,
    llmMetricsUrl: `http://127.0.0.1:${port}/metrics`,
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
