import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, selectEntries, type CliIO } from './cli.js';
import { createProgressReporter, type ProgressEvent } from './progress.js';

function capture(env: NodeJS.ProcessEnv, fetchImpl?: CliIO['fetchImpl']) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    env,
    fetchImpl,
  };
  return { io, out: () => out.join(''), err: () => err.join('') };
}

let modelsDir: string;
beforeEach(async () => {
  modelsDir = await mkdtemp(join(tmpdir(), 'parley-cli-'));
});
afterEach(async () => {
  await rm(modelsDir, { recursive: true, force: true });
});

describe('models CLI', () => {
  test('`models path llm` prints <models>/llm/<default id>/<file> and exits 1 while it is not downloaded', async () => {
    const c = capture({ PARLEY_MODELS_DIR: modelsDir });
    expect(await main(['path', 'llm'], c.io)).toBe(1);
    expect(c.out().trim()).toBe(join(modelsDir, 'llm', 'qwen2.5-0.5b-instruct-q4_k_m', 'qwen2.5-0.5b-instruct-q4_k_m.gguf'));
    expect(c.err()).toMatch(/not downloaded yet.*models pull qwen2.5-0.5b-instruct-q4_k_m/);
  });

  test('`models path tts <voice>` resolves the sherpa-ready model of that voice', async () => {
    const c = capture({ PARLEY_MODELS_DIR: modelsDir });
    await main(['path', 'tts', 'de_DE-thorsten-medium'], c.io);
    expect(c.out().trim()).toBe(join(modelsDir, 'tts', 'de_DE-thorsten-medium', 'de_DE-thorsten-medium.sherpa.onnx'));
  });

  test('unknown roles, ids and commands are usage errors (exit 2) with a clear message', async () => {
    let c = capture({ PARLEY_MODELS_DIR: modelsDir });
    expect(await main(['path', 'vision'], c.io)).toBe(2);
    expect(c.err()).toMatch(/unknown role "vision"/);
    c = capture({ PARLEY_MODELS_DIR: modelsDir });
    expect(await main(['path', 'stt', 'whisper-huge'], c.io)).toBe(2);
    expect(c.err()).toMatch(/unknown model id "whisper-huge"/);
    c = capture({ PARLEY_MODELS_DIR: modelsDir });
    expect(await main(['path', 'stt', 'en_US-lessac-medium'], c.io)).toBe(2);
    expect(c.err()).toMatch(/is a tts model, not stt/);
    c = capture({ PARLEY_MODELS_DIR: modelsDir });
    expect(await main(['pull', 'nonsense'], c.io)).toBe(2);
    expect(c.err()).toMatch(/unknown role, model id or language "nonsense"/);
    c = capture({ PARLEY_MODELS_DIR: modelsDir });
    expect(await main(['frobnicate'], c.io)).toBe(2);
  });

  test('`models list` shows every model with hash status and the voice of all 18 languages', async () => {
    const c = capture({ PARLEY_MODELS_DIR: modelsDir });
    expect(await main(['list'], c.io)).toBe(0);
    expect(c.out()).toMatch(/stt\s+whisper-base \*\s+148.0 MB\s+no\s+published/);
    expect(c.out()).toMatch(/llm\s+qwen2.5-0.5b-instruct-q4_k_m \*.*pin-on-first-download/);
    expect(c.out()).toMatch(/ja\s+\(fallback: text-only/);
    const json = capture({ PARLEY_MODELS_DIR: modelsDir });
    await main(['list', '--json'], json.io);
    expect(Object.keys(JSON.parse(json.out()).voiceByLanguage)).toHaveLength(18);
  });

  test('pull selects default models per role, voices per language, and notes languages without a voice', () => {
    const notes: string[] = [];
    const ids = (args: string[]) => selectEntries(args, (m) => notes.push(m)).map((e) => e.id);
    expect(ids([])).toEqual(expect.arrayContaining(['qwen2.5-0.5b-instruct-q4_k_m', 'whisper-base', 'en_US-lessac-medium', 'it_IT-paola-medium']));
    expect(ids(['stt'])).toEqual(['whisper-base']);
    expect(ids(['whisper-small', 'es', 'ko', 'es_ES-davefx-medium'])).toEqual(['whisper-small', 'es_ES-davefx-medium']);
    expect(notes.join('\n')).toMatch(/ko: no Piper voice/);
  });

  test('a network failure during pull exits 1, names the URL and says a re-run resumes', async () => {
    const fetchImpl = async () => {
      throw new TypeError('fetch failed');
    };
    const c = capture({ PARLEY_MODELS_DIR: modelsDir }, fetchImpl);
    expect(await main(['pull', 'whisper-base'], c.io)).toBe(1);
    expect(c.err()).toContain('https://huggingface.co/ggerganov/whisper.cpp/resolve/main/ggml-base.bin');
    expect(c.err()).toMatch(/run the same command again to resume/);
    expect(c.err()).toMatch(/1 of 1 model\(s\) failed/);
  });
});

describe('progress reporter', () => {
  const ev = (phase: ProgressEvent['phase'], received: number): ProgressEvent => ({
    file: 'stt/x/x.bin',
    url: 'https://example.invalid/x.bin',
    received,
    total: 1000,
    resumedFrom: 0,
    phase,
  });

  test('redraws a single line with carriage returns on a TTY', () => {
    const chunks: string[] = [];
    let t = 0;
    const report = createProgressReporter({ write: (s: string) => chunks.push(s), isTTY: true }, { now: () => (t += 200) });
    report(ev('start', 0));
    for (let i = 1; i <= 10; i++) report(ev('data', i * 100));
    report(ev('done', 1000));
    const body = chunks.slice(1).join('');
    expect(body.split('\r').length).toBeGreaterThan(5);
    expect(body.split('\n').filter(Boolean)).toHaveLength(1);
    expect(body).toMatch(/100\.0%/);
  });

  test('prints periodic plain lines (no carriage returns) when stderr is not a TTY', () => {
    const chunks: string[] = [];
    const report = createProgressReporter({ write: (s: string) => chunks.push(s) }, { now: () => 0, linePercentStep: 25 });
    report(ev('start', 0));
    for (let i = 1; i <= 100; i++) report(ev('data', i * 10));
    report(ev('done', 1000));
    const text = chunks.join('');
    expect(text).not.toContain('\r');
    const lines = text.split('\n').filter((l) => l.includes('%'));
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(lines.length).toBeLessThanOrEqual(6);
  });
});
