import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { LANGUAGE_CODES } from '@parley/contracts';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { writeTinyPiperVoice } from '@parley/models/fixtures/piper';
import { writeTinyWhisperModel } from '@parley/models/fixtures/whisper';
import { freePort, spawnService, waitUntil, type SpawnedService } from '@parley/service-kit/testing';
import { getJson, startLlmService, STT_SERVICE_MAIN, TTS_SERVICE_MAIN } from './support.js';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

/** The three model services on generated models written into `dir` (one tiny voice for every language). */
export async function startModelServices(natsUrl: string, dir: string): Promise<SpawnedService[]> {
  const gguf = await writeTinyGguf(join(dir, 'tiny.gguf'));
  const whisper = await writeTinyWhisperModel(join(dir, 'whisper.bin'));
  const voice = await writeTinyPiperVoice(join(dir, 'voice'));
  return [
    startLlmService(natsUrl, gguf.path, await freePort()),
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
