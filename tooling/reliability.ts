/**
 * The reliability record (issue 12): every fault and bad-input test case calls
 * recordReliabilityCase with what it observed, and `npm run reliability` turns the records into
 * docs/reliability.md. Each case is written as its own JSON file under <repo>/.reliability/ (git
 * ignored) so records from separate jest worker processes survive; a complete `npm test` clears
 * the directory first and compares the records with the committed document at the end
 * (tooling/summary-reporter.cjs, tooling/reliability-check.cjs).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ReliabilityCase {
  /** Stable and unique, dot-separated: `http.text.deep-json`, `nats.llm.chat.malformed-json`. */
  id: string;
  kind: 'fault' | 'bad-input';
  /** What was hit: `POST /api/conversation/text`, `nats parley.v1.llm.chat`, `ws /api/conversation/live`. */
  target: string;
  /** The input or fault, in a few words. */
  input: string;
  /**
   * The observed result the test asserts (`400 INVALID_REQUEST`). It is compared in CI, so never a
   * measured time (that goes in `ms`); a configured bound the test asserts ("within 2 s") is fine.
   */
  outcome: string;
  /** How long it took to observe, in milliseconds (reported, never compared). */
  ms?: number;
}

/** Where the records go; the env override lets the check's own tests use a scratch directory. */
export const RELIABILITY_DIR = process.env.PARLEY_RELIABILITY_DIR ?? fileURLToPath(new URL('../.reliability/', import.meta.url));

const ID = /^[a-z0-9][a-z0-9._-]*$/;

export function recordReliabilityCase(c: { id: string; kind: 'fault' | 'bad-input'; target: string; input: string; outcome: string; ms?: number }): void {
  // A bad id or an empty field would make the CI comparison meaningless: fail the test at once.
  if (!ID.test(c.id)) throw new Error(`reliability case id ${JSON.stringify(c.id)} must be lower-case a-z, 0-9, '.', '_' or '-'`);
  if (c.kind !== 'fault' && c.kind !== 'bad-input') throw new Error(`reliability case ${c.id}: kind must be 'fault' or 'bad-input'`);
  for (const field of ['target', 'input', 'outcome'] as const) {
    if (typeof c[field] !== 'string' || c[field].trim() === '') throw new Error(`reliability case ${c.id}: ${field} must be a non-empty string`);
  }
  const record: ReliabilityCase = {
    id: c.id,
    kind: c.kind,
    target: c.target,
    input: c.input,
    outcome: c.outcome,
    ...(c.ms === undefined ? {} : { ms: Math.round(c.ms) }),
  };
  mkdirSync(RELIABILITY_DIR, { recursive: true });
  // One file per id: a case run again (a retried test, a developer re-running a file) replaces its record.
  writeFileSync(join(RELIABILITY_DIR, `${c.id}.json`), `${JSON.stringify(record)}\n`);
}
