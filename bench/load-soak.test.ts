import { fileURLToPath } from 'node:url';
import { runScript, type ScriptRun } from './support/run-script.js';

const LOAD = fileURLToPath(new URL('./load.mjs', import.meta.url));
const SOAK = fileURLToPath(new URL('./soak.mjs', import.meta.url));

/** The JSON line a script ends its report with (`LOAD-RESULT {...}`). */
function resultLine(stdout: string, tag: string): Record<string, any> {
  const line = stdout.split('\n').find((l) => l.startsWith(`${tag} `));
  if (!line) throw new Error(`no ${tag} line in:\n${stdout}`);
  return JSON.parse(line.slice(tag.length + 1)) as Record<string, any>;
}

let running: ScriptRun | undefined;
afterEach(() => running?.stop());

async function smoke(script: string, args: string[]) {
  running = runScript(script, args);
  const run = await running.result;
  if (run.code !== 0) throw new Error(`${script} exited ${run.code}:\n${run.stdout}\n${run.stderr.slice(-5000)}`);
  return run;
}

/**
 * `npm run load` and `npm run soak` end to end, as CI runs them: short smoke runs on the
 * generated models (the full runs are documented in docs/reliability-load.md). What must hold at
 * any size: every stream ends (none hangs), every turn succeeds, and the reports say what they
 * measured. The soak's slope is only required to be reported: over 50 turns it is noise.
 */
describe('load and soak scripts (smoke runs)', () => {
  it('npm run load -- --streams=20: every stream ends with complete or SERVICE_BUSY, none hangs, the gateway RSS is reported', async () => {
    const run = await smoke(LOAD, ['--streams=20']);
    const result = resultLine(run.stdout, 'LOAD-RESULT');
    expect(result).toMatchObject({ streams: 20, llm_replicas: 2, hung: 0, other: 0, pass: true });
    expect(result.complete + result.busy).toBe(20);
    expect(result.complete).toBeGreaterThan(0);
    expect(result.gateway_rss_mib.peak).toBeGreaterThan(0);
    expect(run.stdout).toContain('Edge limits raised for the run: RATE_LIMIT_PER_MINUTE=0, MAX_STREAMS_PER_CLIENT=0');
    expect(run.stdout).toMatch(/\| complete \| \d+ \|/);
    expect(run.stdout).toMatch(/Gateway RSS: [\d.]+ MiB idle, [\d.]+ MiB peak/);
  }, 300_000);

  it('npm run soak -- --turns=50: every turn succeeds and each service has its RSS over time and a slope', async () => {
    const run = await smoke(SOAK, ['--turns=50']);
    const result = resultLine(run.stdout, 'SOAK-RESULT');
    expect(result).toMatchObject({ turns: 50, failed: 0 });
    expect(Object.keys(result.services)).toEqual(['gateway', 'llm-service', 'stt-service', 'tts-service']);
    for (const [name, service] of Object.entries<Record<string, any>>(result.services)) {
      expect([
        name,
        Number.isFinite(service.slope_kib_per_100_turns),
        Number.isFinite(service.peak_slope_kib_per_100_turns),
        service.samples_after_warmup > 2,
      ]).toEqual([name, true, true, true]);
      // Every sample has the whole RSS and its anonymous part, the latter smaller.
      const sane = service.series.every(([, rss, anon]: number[]) => rss! > 0 && anon! > 0 && anon! < rss!);
      expect([name, service.series.at(-1)[0], sane]).toEqual([name, 50, true]);
      expect(run.stdout).toMatch(
        new RegExp(
          `\\| ${name} \\| [\\d.]+ → [\\d.]+ MiB \\| [\\d.]+ / [\\d.]+ / [\\d.]+ MiB \\| -?[\\d.]+ \\| [\\d., ]+ \\| -?[\\d.]+ \\| (stable|growing) \\|`,
        ),
      );
    }
    expect(run.stdout).toMatch(/Verdict: memory (stable|not shown stable)/);
  }, 600_000);
});
