import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { concatPcm, silencePcm, spokenPcm, wavFile } from '@parley/models/fixtures/speech';
import { getJson, type TestGateway } from './support.js';
import { launchChromium, startWholeSystem, type WholeSystem } from './system-support.js';

/** Screenshots are kept here as test artifacts (git-ignored), as the web client test does. */
const ARTIFACTS = process.env.PARLEY_TEST_ARTIFACTS ?? fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));


/**
 * The page's hands-free mode in headless Chromium against the whole system on generated models:
 * the fake microphone plays, once, two espeak-ng utterances with silence between them long
 * enough for the first (short) answer to be spoken; no click between them.
 */
describe('the web client, hands-free', () => {
  let system: WholeSystem;
  let gateway: TestGateway;
  let browser: Browser;

  beforeAll(async () => {
    // Short answers: the first is fully spoken before the learner's second sentence.
    system = await startWholeSystem({ whisperSeed: 1, gateway: { llmMaxTokens: 12 } });
    ({ gateway } = system);
    const { pcm } = concatPcm(
      silencePcm(1500),
      spokenPcm('Hello there. I would like a cup of coffee, please.'),
      silencePcm(9000),
      spokenPcm('Where is the train station?'),
      silencePcm(6000),
    );
    const microphone = join(system.dir, 'microphone.wav');
    await writeFile(microphone, wavFile(pcm));
    // %noloop: the fake microphone plays the file once (it loops otherwise), then silence.
    browser = await launchChromium(`${microphone}%noloop`);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
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
