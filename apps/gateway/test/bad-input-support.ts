import { performance } from 'node:perf_hooks';
import { recordReliabilityCase } from '../../../tooling/reliability.js';

/**
 * The bad-input battery's shared shape (issue 12, item 2): each target family is one table of
 * cases; a case names its input and what the system must answer, and every run records the
 * observed outcome in the reliability record (tooling/reliability.ts → docs/reliability.md).
 */
export interface BadInputCase<Expected> {
  /** Stable, unique: `http.text.deep-json`. */
  id: string;
  /** The input, in a few words (as the record shows it). */
  input: string;
  expected: Expected;
}

/** An error as the system answered it: HTTP status (or none), machine code and message. */
export interface ObservedError {
  status?: number;
  code: string;
  message: string;
}

/** How an error outcome reads in the record: `400 INVALID_REQUEST: language: ...` (long messages cut, never timings). */
export function describeError(observed: ObservedError, prefix = observed.status === undefined ? '' : `${observed.status} `): string {
  const message = observed.message.length > 140 ? `${observed.message.slice(0, 140)}…` : observed.message;
  return `${prefix}${observed.code}: ${message}`;
}

/**
 * Runs one case's request, timed, and records it. `describe` turns what was observed into the
 * outcome the test asserts; the caller asserts on the returned observation.
 */
export async function observeCase<T>(
  target: string,
  c: { id: string; input: string },
  run: () => Promise<T>,
  describe: (observed: T) => string,
): Promise<T> {
  const started = performance.now();
  const observed = await run();
  const ms = performance.now() - started;
  recordReliabilityCase({ id: c.id, kind: 'bad-input', target, input: c.input, outcome: describe(observed), ms });
  return observed;
}

/** A string of `n` characters. */
export const huge = (n: number, unit = 'a') => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);

/** JSON text nested `depth` arrays deep inside `field` of an otherwise fine object. */
export const deeplyNested = (depth: number, base: Record<string, unknown>, field: string) => {
  const inner = JSON.stringify(base).slice(0, -1);
  return `${inner},"${field}":${'['.repeat(depth)}${']'.repeat(depth)}}`;
};

/** A 16-bit mono PCM WAV header whose sizes claim `claimedDataBytes` (a lie when larger than the data). */
export function wavHeader(sampleRate: number, claimedDataBytes: number, channels = 1): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(Math.min(36 + claimedDataBytes, 0xffffffff), 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(claimedDataBytes, 40);
  return header;
}

/** A WAV of `seconds` of a 440 Hz tone at `sampleRate` (real audio, no speech in it). */
export function toneWav(sampleRate: number, seconds: number): Buffer {
  const samples = Math.round(sampleRate * seconds);
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / sampleRate)), i * 2);
  return Buffer.concat([wavHeader(sampleRate, data.length), data]);
}
