import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse as parseCsv } from 'csv-parse/sync';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { getJson, makeSpeech, type TestGateway } from './support.js';
import { launchChromium, startWholeSystem, type WholeSystem } from './system-support.js';

/** Screenshots are kept here as test artifacts (gitignored). */
const ARTIFACTS = process.env.PARLEY_TEST_ARTIFACTS ?? fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

/**
 * The web client the gateway serves, in headless Chromium (Debian's), against the whole system on
 * generated models. The microphone is Chromium's fake capture device playing an espeak-ng WAV.
 */
describe('the web client in a browser', () => {
  let system: WholeSystem;
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    // The suite runs on the generated models: the gateway says so, as `npm start` does in demo mode.
    system = await startWholeSystem({ gateway: { demo: true } });
    ({ gateway } = system);
    const speech = makeSpeech(system.dir, 'Hello, I would like a coffee please.');
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await launchChromium(speech.wav);
    page = await browser.newPage();
    await page.goto(gateway.url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
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
    expect(await page.locator('#messages li.assistant .text').first().textContent()).toBe(complete.full_response);
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
    await page.screenshot({ path: join(ARTIFACTS, 'web-client-voice-turn.png') });
  });

  it('shows a demo banner when the system runs on demo models', async () => {
    await page.waitForSelector('#demo-banner:not([hidden])');
    expect(await page.locator('#demo-banner').textContent()).toMatch(/Demo mode.*nonsense words/s);
  });

  it('shows the typed turn\'s corrections under the learner\'s bubble and a translation toggle that works, by mouse and keyboard', async () => {
    await page.selectOption('#native-language', 'de');
    const turns = await page.locator('#messages li.assistant').count();
    await page.fill('#message', 'Yo tener hambre');
    await page.press('#message', 'Enter');
    await page.waitForFunction((n) => document.querySelectorAll('#messages li.assistant .translate').length > n, turns, { timeout: 30_000 });
    const feedback = await page.evaluate(() => (window as any).parley.lastFeedback);
    // The correction block follows the learner's bubble: each correction struck through and fixed, or a check.
    const block = page.locator('#messages li.user + li.corrections').last();
    await block.waitFor();
    expect(await block.locator('del').allTextContents()).toEqual(feedback.corrections.map((c: { original: string }) => c.original));
    expect(await block.locator('ins').allTextContents()).toEqual(feedback.corrections.map((c: { corrected: string }) => c.corrected));
    expect((await block.textContent())!.includes('Nothing to correct')).toBe(feedback.corrections.length === 0);
    // The translation is hidden until asked for.
    const answer = page.locator('#messages li.assistant').last();
    const toggle = answer.locator('button.translate');
    expect(await answer.locator('.translation').isHidden()).toBe(true);
    await toggle.click();
    expect(await answer.locator('.translation').textContent()).toBe(feedback.translation);
    expect(await answer.locator('.translation').isVisible()).toBe(true);
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    await toggle.focus();
    await page.keyboard.press('Enter');
    expect(await answer.locator('.translation').isHidden()).toBe(true);
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    // A replay button for the spoken answer.
    expect(await answer.locator('button.replay').getAttribute('aria-label')).toBe('Replay this answer');
    await page.screenshot({ path: join(ARTIFACTS, 'web-client-feedback.png') });
  });

  it('lists the learner\'s words for the current language, and exports them as CSV', async () => {
    await page.waitForFunction(() => document.querySelectorAll('#vocabulary li strong').length > 0);
    const shown = await page.locator('#vocabulary li strong').allTextContents();
    const learnerId = await page.evaluate(() => (window as any).parley.learnerId);
    const { body } = await getJson(`${gateway.url}/api/learners/${learnerId}/vocabulary?language=es`);
    expect(shown).toEqual(body.vocabulary.map((w: { word: string }) => w.word));
    const href = await page.locator('#vocabulary-export').getAttribute('href');
    expect(href).toBe(`/api/learners/${learnerId}/vocabulary?language=es&format=csv`);
    const rows = parseCsv(await (await fetch(`${gateway.url}${href}`)).text(), { columns: true }) as { word: string }[];
    expect(rows.map((r) => r.word)).toEqual(shown);
  });

  it('fits a phone screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await page.locator('#message').isVisible()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'web-client-phone.png'), fullPage: true });
  });
});
