// What `npm run load` and `npm run soak` share: `--name=value` arguments, a work folder with the
// models, and the services stopped however the run ends (finished, failed, Ctrl-C, a test's kill).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { prepareModels, Stack } from './system.mjs';

/** `--name=N` from the command line as a positive number, else `fallback`. */
export function numberArg(name, fallback) {
  const raw = process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`--${name} must be a positive number, not ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}

/** A logger to stderr with the seconds since the start (stdout carries the report). */
export function progressLog(label) {
  const t0 = performance.now();
  return (text) => console.error(`[${label} ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${text}`);
}

/**
 * Runs `body(stack, models)` on a fresh broker and the generated models (or those named as in
 * docs/benchmarks.md), then stops everything it started, also when interrupted.
 */
export async function withStack(prefix, body) {
  Logger.overrideLogger(['error']);
  const work = await mkdtemp(join(tmpdir(), `parley-${prefix}-`));
  const stopAll = async () => {
    await Stack.closeAll();
    await rm(work, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'])
    process.once(signal, () => void stopAll().finally(() => process.exit(130)));
  try {
    const models = await prepareModels(work);
    const stack = await Stack.start(models);
    return await body(stack, models);
  } finally {
    await stopAll();
  }
}

/** Bytes as MiB with one decimal. */
export const mib = (bytes) => +(bytes / 2 ** 20).toFixed(1);
