import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScript, type ScriptRun } from './support/run-script.js';

const RUN = fileURLToPath(new URL('./run.mjs', import.meta.url));
const SECTIONS = ['relay', 'first-token', 'speak-stream', 'live', 'stt', 'capacity', 'memory', 'cancel'];

interface Row {
  figure: string;
  available?: false;
  n?: number;
  p50?: number;
  p99?: number;
  min?: number;
  max?: number;
  baseline?: { n: number; p50: number; p99: number };
  ratio?: number;
}

/** The smoke run in progress (stopped if the suite ends first). */
let child: ScriptRun | undefined;

/** `npm run bench -- --smoke`, into a private results folder. */
function smokeRun(outDir: string) {
  child = runScript(RUN, ['--smoke', `--out=${outDir}`]);
  return child.result;
}

describe('npm run bench (smoke run: every section, tiny counts)', () => {
  let outDir: string;
  let run: Awaited<ReturnType<typeof smokeRun>>;
  let results: { meta: Record<string, unknown>; sections: Record<string, { title: string; rows: Row[] }> };

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'parley-bench-test-'));
    run = await smokeRun(outDir);
    if (run.code !== 0) throw new Error(`bench exited ${run.code}:\n${run.stderr.slice(-5000)}`);
    results = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8'));
  }, 600_000); // it starts a broker, every service and whisper-server: minutes on a loaded machine

  afterAll(() => {
    child?.stop(); // its finally block stops the services it started
    rmSync(outDir, { recursive: true, force: true });
  });

  it('writes the JSON twice: a timestamped file and latest.json', () => {
    expect(readdirSync(outDir).sort()).toEqual([expect.stringMatching(/^bench-.*\.json$/), 'latest.json']);
  });

  it('has every section, each with rows', () => {
    expect(Object.keys(results.sections)).toEqual(SECTIONS);
    for (const name of SECTIONS) expect(results.sections[name]!.rows.length).toBeGreaterThan(0);
  });

  it('gives every measured figure numeric n, p50, p99 and spread, and every baseline a ratio', () => {
    const measured = SECTIONS.flatMap((name) => results.sections[name]!.rows.filter((row) => row.available !== false));
    expect(measured.length).toBeGreaterThan(30);
    for (const row of measured) {
      expect({ figure: row.figure, n: row.n }).toEqual({ figure: row.figure, n: expect.any(Number) });
      expect(row.n).toBeGreaterThan(0);
      for (const field of ['p50', 'p99', 'min', 'max'] as const)
        expect([row.figure, field, Number.isFinite(row[field])]).toEqual([row.figure, field, true]);
    }
    const withBaseline = measured.filter((row) => row.baseline);
    expect(withBaseline.length).toBeGreaterThan(10);
    for (const row of withBaseline)
      expect([row.figure, Number.isFinite(row.baseline!.p50), Number.isFinite(row.ratio)]).toEqual([
        row.figure,
        true,
        true,
      ]);
  });

  it('measures every section: no row is left unavailable', () => {
    for (const name of SECTIONS) {
      expect([name, results.sections[name]!.rows.every((row) => row.available !== false)]).toEqual([name, true]);
    }
  });

  it('measures the live conversation from the last voiced sample, with the silence wait beside it and taken off', () => {
    const rows = Object.fromEntries(results.sections.live!.rows.map((row) => [row.figure, row]));
    const wait = rows['VAD silence wait (STT_VAD_MIN_SILENCE_MS, configured)']!.p50!;
    expect(wait).toBe(500); // the stt-service's default, which the bench does not change
    const transcription = rows['last voiced sample → transcription']!;
    const firstAudio = rows['last voiced sample → first audio']!;
    // Every run was answered (2 in a smoke run); nothing comes before the silence that ends the utterance.
    expect([transcription.n, firstAudio.n]).toEqual([2, 2]);
    // (less one 40 ms frame: the frame that holds the last voiced sample may hold some of that silence too)
    expect(rows['last voiced sample → speech_stopped']!.min).toBeGreaterThanOrEqual(wait - 40);
    expect(firstAudio.min).toBeGreaterThanOrEqual(transcription.min!);
    const less = rows['last voiced sample → first audio, less the silence wait']!;
    expect(less.p50).toBeCloseTo(firstAudio.p50! - wait, 6);
    expect(less.baseline).toMatchObject({ n: 2 });
  });

  it('measures the relay overhead from engine stamps for every chunk at 1 and 50 streams, with no error', () => {
    const rows = results.sections.relay!.rows;
    const sse50 = rows.find((row) => row.figure === 'engine → SSE client per chunk, 50 streams')!;
    // 50 streams of the generated answer (18-30 chunks each), every chunk matched to its stamp.
    expect(sse50.n).toBeGreaterThanOrEqual(50 * 18);
    expect(rows.every((row) => !('note' in row))).toBe(true);
  });

  it('prints one markdown table per section, the same figures as the JSON', () => {
    for (const section of Object.values(results.sections)) {
      expect(run.stdout).toContain(`### ${section.title}`);
      for (const row of section.rows) expect(run.stdout).toContain(`| ${row.figure}`);
    }
    expect(run.stdout).toContain('| figure | unit | n | p50 | p99 |');
  });
});
