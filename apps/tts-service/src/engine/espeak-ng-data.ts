import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Where Debian/Ubuntu's `espeak-ng-data` package (and source installs) put the data. */
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

/** The first installed espeak-ng data directory, or undefined (`apt-get install espeak-ng-data`). */
export function findEspeakNgDataDir(candidates: readonly string[] = ESPEAK_NG_DATA_CANDIDATES): string | undefined {
  return candidates.find(isEspeakNgDataDir);
}
