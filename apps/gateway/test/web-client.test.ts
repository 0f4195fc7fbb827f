import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { LANGUAGE_CODES } from '@parley/contracts';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { writeTinyPiperVoice } from '@parley/models/fixtures/piper';
import { writeTinyWhisperModel } from '@parley/models/fixtures/whisper';
import { freePort, spawnService, startNatsServer, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import { getJson, launchChromium, makeSpeech, startLlmService, startTestGateway, STT_SERVICE_MAIN, TTS_SERVICE_MAIN, type TestGateway } from './support.js';


/**
 * The web client the gateway serves, in headless Chromium (Debian's), against the whole system on
 * generated models. The microphone is Chromium's fake capture device playing an espeak-ng WAV.
 */
describe('the web client in a browser', () => {
  let nats: TestNatsServer;
  let dir: string;
  const services: SpawnedService[] = [];
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-web-'));
    const speech = makeSpeech(dir, 'Hello, I would like a coffee please.');
    const gguf = await writeTinyGguf(join(dir, 'tiny.gguf'));
    const whisper = await writeTinyWhisperModel(join(dir, 'whisper.bin'));
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
    gateway = await startTestGateway(nats.url);
    await waitUntil(async () => (await getJson(`${gateway.url}/api/health/ready`)).status === 200, 'every model to load', 60_000);
    browser = await launchChromium(speech.wav);
    page = await browser.newPage();
    await page.goto(gateway.url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await Promise.all(services.map((s) => s.stop()));
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('offers the 18 languages and 9 scenarios, and shows every model loaded', async () => {
    await page.waitForFunction(() => document.querySelectorAll('#language option').length === 18);
    expect(await page.locator('#scenario option').count()).toBe(9);
    await page.waitForFunction(() => document.querySelector('#health')?.textContent?.includes('tts: loaded'));
    expect(await page.locator('#health').textContent()).toBe('stt: loaded · llm: loaded · tts: loaded');
  });

  it('streams a typed turn into the conversation and plays its sentences', async () => {
    await page.fill('#message', 'Hola');
    await page.click('#send');
    await page.waitForFunction(() => (window as any).parley.lastComplete !== null);
    const complete = await page.evaluate(() => (window as any).parley.lastComplete);
    expect(await page.locator('#messages li.user').first().textContent()).toBe('Hola');
    expect(await page.locator('#messages li.assistant').first().textContent()).toBe(complete.full_response);
    await page.waitForFunction(() => (window as any).parley.audioPlayed > 1);
  });

  it('records from the microphone, shows the transcription and answers in the same session', async () => {
    const turnsBefore = await page.locator('#messages li.assistant').count();
    const sessionBefore = await page.evaluate(() => localStorage.getItem('parley.session'));
    await page.dispatchEvent('#record', 'pointerdown');
    await page.waitForFunction(() => document.querySelector('#record')?.getAttribute('aria-pressed') === 'true');
    await page.waitForTimeout(2500);
    await page.dispatchEvent('#record', 'pointerup');
    await page.waitForFunction((n) => document.querySelectorAll('#messages li.assistant').length > n, turnsBefore, { timeout: 30_000 });
    await page.waitForFunction(() => !document.querySelector('#status')?.textContent);
    const users = await page.locator('#messages li.user').allTextContents();
    expect(users.at(-1)).toMatch(/\S/);
    expect(await page.locator('#messages li.error').count()).toBe(0);
    expect(await page.evaluate(() => localStorage.getItem('parley.session'))).toBe(sessionBefore);
    const { body } = await getJson(`${gateway.url}/api/conversation/session/${sessionBefore}`);
    expect(body.count).toBe(4);
    await page.screenshot({ path: join(tmpdir(), 'parley-web-client.png') });
  });
});
