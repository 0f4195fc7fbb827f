import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where Debian/Ubuntu's `espeak-ng-data` package (and source installs) put espeak-ng's data,
 * which Piper voices use as `vits.dataDir`. Piper voice tarballs ship their own copy instead.
 */
export const ESPEAK_NG_DATA_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/espeak-ng-data',
  '/usr/lib/aarch64-linux-gnu/espeak-ng-data',
  '/usr/share/espeak-ng-data',
  '/usr/local/share/espeak-ng-data',
] as const;

/** True when `dir` looks like an espeak-ng data directory. */
export function isEspeakNgDataDir(dir: string): boolean {
  return existsSync(join(dir, 'phontab'));
}

/**
 * `$ESPEAK_NG_DATA` if set, else the first installed candidate; undefined when espeak-ng-data is
 * not installed (`apt-get install espeak-ng-data`). sherpa-onnx initialises espeak-ng once per
 * process, so the first dataDir used wins for all voices.
 */
export function findEspeakNgDataDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = env.ESPEAK_NG_DATA ? [env.ESPEAK_NG_DATA, ...ESPEAK_NG_DATA_CANDIDATES] : ESPEAK_NG_DATA_CANDIDATES;
  return candidates.find(isEspeakNgDataDir);
}
