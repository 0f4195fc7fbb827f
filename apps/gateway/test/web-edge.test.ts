import type { Browser, Page } from 'playwright-core';
import { makeSpeech, type TestGateway } from './support.js';
import { launchChromium, startWholeSystem, type WholeSystem } from './system-support.js';
const KEY = 'browser-key-0123456789';

/**
 * The bundled page in headless Chromium against a gateway that needs an API key and sends its
 * Content-Security-Policy: the page asks for the key once, keeps it, and breaks no CSP rule while
 * typing, recording (fake microphone) and playing speech.
 */
describe('the web client behind the browser-facing edge', () => {
  let system: WholeSystem;
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;
  const prompts: string[] = [];
  const cspReports: string[] = [];

  beforeAll(async () => {
    system = await startWholeSystem({ edge: { apiKeys: [KEY] } });
    ({ gateway } = system);
    const speech = makeSpeech(system.dir, 'Hello, I would like a coffee please.');
    browser = await launchChromium(speech.wav);
    page = await browser.newPage();
    // Every CSP violation the page causes, as the browser reports it (event and console).
    await page.exposeFunction('reportCspViolation', (text: string) => cspReports.push(text));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) =>
        (window as any).reportCspViolation(`${e.violatedDirective} blocked ${e.blockedURI}`),
      );
    });
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspReports.push(message.text());
    });
    page.on('dialog', (dialog) => {
      prompts.push(dialog.message());
      void dialog.accept(KEY);
    });
    await page.goto(gateway.url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
  });

  it('is served with a Content-Security-Policy', async () => {
    const res = await fetch(gateway.url);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('loads the catalog and health without a key, and asks for one once, on the first 401', async () => {
    await page.waitForFunction(() => document.querySelectorAll('#language option').length === 18);
    await page.waitForFunction(() => document.querySelector('#health')?.textContent?.includes('tts: loaded'));
    // The page's first guarded call (the learner's vocabulary) is refused: it asks, and keeps the key.
    await page.waitForFunction(() => localStorage.getItem('parley.apiKey') !== null);
    expect(prompts).toEqual(['This Parley server needs an API key:']);
    expect(await page.evaluate(() => localStorage.getItem('parley.apiKey'))).toBe(KEY);
  });

  it('sends the kept key with a typed turn, which completes without asking again', async () => {
    await page.fill('#message', 'Hola');
    await page.click('#send');
    await page.waitForFunction(() => (window as any).parley.lastComplete !== null, undefined, { timeout: 30_000 });
    expect(prompts).toHaveLength(1);
    expect(await page.locator('#messages li.error').count()).toBe(0);
    await page.waitForFunction(() => (window as any).parley.audioPlayed > 0);
  });

  it('uses the kept key after a reload, for typed and recorded turns, without asking again', async () => {
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('#language option').length === 18);
    await page.fill('#message', 'Otra vez');
    await page.click('#send');
    await page.waitForFunction(() => (window as any).parley.lastComplete !== null, undefined, { timeout: 30_000 });
    const answered = await page.locator('#messages li.assistant').count();
    await page.dispatchEvent('#record', 'pointerdown');
    await page.waitForFunction(() => document.querySelector('#record')?.getAttribute('aria-pressed') === 'true');
    await page.waitForTimeout(2500);
    await page.dispatchEvent('#record', 'pointerup');
    await page.waitForFunction((n) => document.querySelectorAll('#messages li.assistant').length > n, answered, { timeout: 30_000 });
    expect(await page.locator('#messages li.error').count()).toBe(0);
    expect(prompts).toHaveLength(1);
  });

  it('broke no Content-Security-Policy rule along the way', () => {
    expect(cspReports).toEqual([]);
  });
});
