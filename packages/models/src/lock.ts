// models.lock.json: hashes pinned on first download for files the manifest has no published
// hash for (trust on first use). Keyed by `<role>/<id>/<file>`.

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const LOCK_FILE = 'models.lock.json';

export interface LockedFile {
  sha256: string;
  size: number;
  url: string;
  pinnedAt: string;
}

export interface LockData {
  version: 1;
  comment: string;
  files: Record<string, LockedFile>;
}

const COMMENT =
  'Hashes pinned on first download for files with no published hash (see docs/models.md). ' +
  'A later download that differs is rejected. Delete an entry only if you trust the new file.';

export function lockPath(modelsDir: string): string {
  return join(modelsDir, LOCK_FILE);
}

export async function readLock(modelsDir: string): Promise<LockData> {
  try {
    const data = JSON.parse(await readFile(lockPath(modelsDir), 'utf8')) as Partial<LockData>;
    return { version: 1, comment: COMMENT, files: data.files ?? {} };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, comment: COMMENT, files: {} };
    throw new Error(`cannot read ${lockPath(modelsDir)}: ${(err as Error).message}`, { cause: err });
  }
}

/** Record one pinned hash (read-modify-write, written atomically). */
export async function pinInLock(modelsDir: string, key: string, entry: LockedFile): Promise<void> {
  const lock = await readLock(modelsDir);
  lock.files[key] = entry;
  const sorted = Object.fromEntries(Object.entries(lock.files).sort(([a], [b]) => a.localeCompare(b)));
  const file = lockPath(modelsDir);
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ ...lock, files: sorted }, null, 2)}\n`);
  await rename(tmp, file);
}
