import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { LANGUAGE_CODES } from '@parley/contracts';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { writeTinyPiperVoice } from '@parley/models/fixtures/piper';
import { concatPcm, silencePcm, spokenPcm, wavFile } from '@parley/models/fixtures/speech';
import { writeTinyWhisperModel } from '@parley/models/fixtures/whisper';
import { freePort, spawnService, startNatsServer, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import { getJson, startLlmService, startTestGateway, STT_SERVICE_MAIN, TTS_SERVICE_MAIN, type TestGateway } from './support.js';
import { launchChromium } from './system-support.js';

/** Screenshots are kept here as test artifacts (git-ignored), as the web client test does. */
const ARTIFACTS = process.env.PARLEY_TEST_ARTIFACTS ?? fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));


/**
 * The page's hands-free mode in headless Chromium against the whole system on generated models:
 * the fake microphone plays, once, two espeak-ng utterances with silence between them long
 * enough for the first (short) answer to be spoken; no click between them.
 */
describe('the web client, hands-free', () => {
  let nats: TestNatsServer;
  let dir: string;
  const services: SpawnedService[] = [];
  let gateway: TestGateway;
  let browser: Browser;

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-hands-free-'));
    const { pcm } = concatPcm(
      silencePcm(1500),
      spokenPcm('Hello there. I would like a cup of coffee, please.'),
      silencePcm(9000),
      spokenPcm('Where is the train station?'),
      silencePcm(6000),
    );
    const microphone = join(dir, 'microphone.wav');
    await writeFile(microphone, wavFile(pcm));
    const gguf = await writeTinyGguf(join(dir, 'tiny.gguf'));
    const whisper = await writeTinyWhisperModel(join(dir, 'whisper.bin'), { seed: 1 });
    const voice = await writeTinyPiperVoice(join(dir, 'voice'));
    services.push(startLlmService(nats.url, gguf.path, await freePort()));
    services.push(
      spawnService('stt-service', STT_SERVICE_MAIN, { NATS_URL: nats.url, STT_MODEL_PATH: whisper.path, STT_HTTP_PORT: String(await freePort()) }),
      spawnService('tts-service', TTS_SERVICE_MAIN, {
        NATS_URL: nats.url,
        TTS_HTTP_PORT: String(await freePort()),
        TTS_VOICES: JSON.stringify([{ id: 'tiny', languages: LANGUAGE_CODES, model: voice.model, tokens: voice.tokens }]),
      }),
    );
    // Short answers: the first is fully spoken before the learner's second sentence.
    gateway = await startTestGateway(nats.url, { llmMaxTokens: 12 });
    await waitUntil(async () => (await getJson(`${gateway.url}/api/health/ready`)).status === 200, 'every model to load', 60_000);
    // %noloop: the fake microphone plays the file once (it loops otherwise), then silence.
    browser = await launchChromium(`${microphone}%noloop`);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await Promise.all(services.map((s) => s.stop()));
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers two spoken sentences without a click between them, and plays the answers', async () => {
    const page = await browser.newPage();
    await page.goto(gateway.url);
    await page.waitForFunction(() => document.querySelectorAll('#language option').length === 18);
    await page.selectOption('#language', 'en');
    await page.click('#hands-free');
    await page.waitForFunction(() => document.querySelector('#hands-free')?.getAttribute('aria-pressed') === 'true');
    await page.waitForFunction(() => (window as any).parley.live.completes >= 2, undefined, { timeout: 60_000 });
    const users = await page.locator('#messages li.user').allTextContents();
    const answers = await page.locator('#messages li.assistant').allTextContents();
    expect(users).toHaveLength(2);
    expect(users.every((text) => /\S/.test(text))).toBe(true);
    expect(answers).toHaveLength(2);
    expect(answers.every((text) => /\S/.test(text))).toBe(true);
    expect(await page.locator('#messages li.error').count()).toBe(0);
    expect(await page.evaluate(() => (window as any).parley.audioPlayed)).toBeGreaterThanOrEqual(2);
    // The conversation is stored under the page's session.
    const session = await page.evaluate(() => localStorage.getItem('parley.session'));
    expect((await getJson(`${gateway.url}/api/conversation/session/${session}`)).body.count).toBe(4);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'hands-free.png'), fullPage: true });
    await page.click('#hands-free');
    await page.close();
  }, 90_000);
});
