// Download a manifest entry into `<modelsDir>/<role>/<id>/`: resumable (`.part` file + HTTP
// Range), verified (streaming SHA-256, plus the publisher's SHA-1 where listed), atomic (rename
// into place only after verification), idempotent (present + verified files are skipped).
// Files without a published hash are pinned in models.lock.json on first download.

import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ModelEntry, ModelFile } from './manifest.js';
import { pinInLock, readLock, lockPath } from './lock.js';
import { defaultModelsDir, modelDir } from './paths.js';
import { preparePiperForSherpa } from './piper.js';
import type { ProgressListener } from './progress.js';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface PullOptions {
  modelsDir?: string;
  fetchImpl?: FetchLike;
  onProgress?: ProgressListener;
  /** Human-readable notices (skips, pins, restarts); default: none. The CLI prints them to stderr. */
  onNotice?: (message: string) => void;
  /** Automatic resumes after a dropped connection within one call. Default 2. */
  retries?: number;
  /** Abort a request that delivers no bytes for this long. Default 60 s. */
  stallTimeoutMs?: number;
}

export type FileStatus = 'downloaded' | 'present' | 'pinned';

export interface PulledFile {
  name: string;
  path: string;
  sha256: string;
  size: number;
  status: FileStatus;
  /** How the file was checked: published hash, or the hash pinned in the lock file. */
  verifiedBy: 'manifest' | 'lock' | 'pinned-now';
}

export interface PullResult {
  entry: ModelEntry;
  dir: string;
  files: PulledFile[];
}

/** A failure a user can act on; `retryable` ones keep their `.part` so a re-run resumes. */
export class PullError extends Error {
  constructor(
    message: string,
    readonly url: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PullError';
  }
}

interface Expected {
  sha256?: string;
  sha1?: string;
  size?: number;
  /** Where the expected sha256 comes from, for error messages. */
  source: 'manifest' | 'lock' | 'none';
}

interface Digests {
  sha256: string;
  sha1: string;
  size: number;
}

function newHashes(): { sha256: Hash; sha1: Hash } {
  return { sha256: createHash('sha256'), sha1: createHash('sha1') };
}

/** Feed an existing file (a partial download) into the hashes. */
async function hashInto(path: string, h: { sha256: Hash; sha1: Hash }): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(path)) {
    const buf = chunk as Buffer;
    h.sha256.update(buf);
    h.sha1.update(buf);
    n += buf.length;
  }
  return n;
}

export async function hashFile(path: string): Promise<Digests> {
  const h = newHashes();
  const size = await hashInto(path, h);
  return { sha256: h.sha256.digest('hex'), sha1: h.sha1.digest('hex'), size };
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Why `digests` do not match `expected`, or undefined when they do. */
function mismatch(digests: Digests, expected: Expected): string | undefined {
  if (expected.size !== undefined && digests.size !== expected.size) {
    return `size ${digests.size} bytes, expected ${expected.size}`;
  }
  if (expected.sha256 && digests.sha256 !== expected.sha256) {
    const from = expected.source === 'lock' ? 'the hash pinned in models.lock.json' : 'the published hash';
    return `sha256 ${digests.sha256}, expected ${expected.sha256} (${from})`;
  }
  if (expected.sha1 && digests.sha1 !== expected.sha1) {
    return `sha1 ${digests.sha1}, expected ${expected.sha1} (the published SHA-1)`;
  }
  return undefined;
}

function parseContentRangeStart(header: string | null): { start: number; total?: number } | undefined {
  const m = header ? /^bytes\s+(\d+)-\d+\/(\d+|\*)$/i.exec(header.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[2] === '*' ? undefined : Number(m[2]) };
}

interface DownloadCtx {
  key: string;
  url: string;
  part: string;
  expected: Expected;
  fetchImpl: FetchLike;
  onProgress?: ProgressListener;
  notice: (m: string) => void;
  stallTimeoutMs: number;
}

/**
 * One HTTP attempt: continue `.part` from its current size (Range) or start over, stream the
 * body into it while hashing. Returns the digests of the complete `.part`.
 */
async function downloadAttempt(ctx: DownloadCtx): Promise<Digests> {
  const { url, part } = ctx;
  let offset = (await sizeOf(part)) ?? 0;
  if (ctx.expected.size !== undefined && offset > ctx.expected.size) {
    ctx.notice(`${ctx.key}: partial file is larger than expected; starting over`);
    await truncate(part, 0);
    offset = 0;
  }

  const controller = new AbortController();
  let stallTimer: NodeJS.Timeout | undefined;
  const armStall = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(
      () => controller.abort(new Error(`no data for ${Math.round(ctx.stallTimeoutMs / 1000)} s`)),
      ctx.stallTimeoutMs,
    );
  };

  let res: Response;
  try {
    armStall();
    res = await ctx.fetchImpl(url, {
      headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
      redirect: 'follow',
      signal: controller.signal,
    });
  } catch (err) {
    clearTimeout(stallTimer);
    throw new PullError(`network error fetching ${url}: ${(err as Error).message}`, url, true, { cause: err });
  }

  try {
    if (res.status === 416 && offset > 0) {
      // Range not satisfiable: usually the partial file is already complete (`bytes */<total>`).
      const m = /\*\/(\d+)/.exec(res.headers.get('content-range') ?? '');
      const serverTotal = m ? Number(m[1]) : undefined;
      await res.body?.cancel();
      const digests = await hashFile(part);
      const complete =
        serverTotal !== undefined
          ? digests.size === serverTotal
          : ctx.expected.sha256 !== undefined || ctx.expected.size !== undefined;
      if (complete && !mismatch(digests, ctx.expected)) return digests;
      ctx.notice(`${ctx.key}: server rejected the resume range (416); starting over`);
      await truncate(part, 0);
      clearTimeout(stallTimer);
      return await downloadAttempt(ctx);
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
      throw new PullError(`HTTP ${res.status} ${res.statusText} for ${url}`, url, retryable);
    }
    if (!res.body) throw new PullError(`empty response body from ${url}`, url, true);

    const h = newHashes();
    if (res.status === 206 && offset > 0) {
      const range = parseContentRangeStart(res.headers.get('content-range'));
      if (range && range.start !== offset) {
        await res.body.cancel();
        throw new PullError(`server resumed at byte ${range.start}, asked for ${offset} (${url})`, url, true);
      }
      await hashInto(part, h);
    } else {
      if (offset > 0) ctx.notice(`${ctx.key}: server ignored the resume request; downloading from the start`);
      offset = 0;
    }

    const length = Number(res.headers.get('content-length'));
    const total = Number.isFinite(length) && length > 0 && res.headers.has('content-length') ? offset + length : ctx.expected.size;

    let received = offset;
    ctx.onProgress?.({ file: ctx.key, url, received, total, resumedFrom: offset, phase: 'start' });
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        armStall();
        h.sha256.update(chunk);
        h.sha1.update(chunk);
        received += chunk.length;
        ctx.onProgress?.({ file: ctx.key, url, received, total, resumedFrom: offset, phase: 'data' });
        cb(null, chunk);
      },
    });
    try {
      await pipeline(
        Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>),
        tap,
        createWriteStream(part, { flags: offset > 0 ? 'a' : 'w' }),
      );
    } catch (err) {
      const got = (await sizeOf(part)) ?? 0;
      throw new PullError(
        `download of ${url} was interrupted after ${got} bytes: ${(err as Error).message}`,
        url,
        true,
        { cause: err },
      );
    }
    if (total !== undefined && received < total && res.headers.has('content-length')) {
      throw new PullError(`download of ${url} ended early at ${received} of ${total} bytes`, url, true);
    }
    ctx.onProgress?.({ file: ctx.key, url, received, total: total ?? received, resumedFrom: offset, phase: 'done' });
    return { sha256: h.sha256.digest('hex'), sha1: h.sha1.digest('hex'), size: received };
  } finally {
    clearTimeout(stallTimer);
  }
}

async function pullFile(
  entry: ModelEntry,
  file: ModelFile,
  dir: string,
  modelsDir: string,
  opts: Required<Pick<PullOptions, 'retries' | 'stallTimeoutMs'>> & PullOptions & { fetchImpl: FetchLike },
): Promise<PulledFile> {
  const notice = opts.onNotice ?? (() => {});
  const key = `${entry.role}/${entry.id}/${file.name}`;
  const dest = join(dir, file.name);
  const part = `${dest}.part`;

  const locked = file.sha256 ? undefined : (await readLock(modelsDir)).files[key];
  const expected: Expected = file.sha256
    ? { sha256: file.sha256, sha1: file.sha1, size: file.sizeExact ? file.size : undefined, source: 'manifest' }
    : locked
      ? { sha256: locked.sha256, size: locked.size, source: 'lock' }
      : { sha1: file.sha1, size: file.sizeExact ? file.size : undefined, source: 'none' };
  const verifiedBy = expected.source === 'manifest' ? 'manifest' : expected.source === 'lock' ? 'lock' : 'pinned-now';

  const pin = async (digests: Digests) => {
    await pinInLock(modelsDir, key, { sha256: digests.sha256, size: digests.size, url: file.url, pinnedAt: new Date().toISOString() });
    notice(
      `${key}: no published hash; PINNED sha256 ${digests.sha256} (${digests.size} bytes) on first download in ${lockPath(modelsDir)}. ` +
        'Later downloads must match it.',
    );
  };

  // Already present: verify instead of downloading again.
  if ((await sizeOf(dest)) !== undefined) {
    const digests = await hashFile(dest);
    const why = mismatch(digests, expected);
    if (!why) {
      if (expected.source === 'none') {
        await pin(digests);
        return { name: file.name, path: dest, sha256: digests.sha256, size: digests.size, status: 'pinned', verifiedBy };
      }
      notice(`${key}: already present and verified, skipping`);
      return { name: file.name, path: dest, sha256: digests.sha256, size: digests.size, status: 'present', verifiedBy };
    }
    notice(`${key}: existing file does not verify (${why}); downloading again`);
    await rm(dest, { force: true });
  }

  await mkdir(dir, { recursive: true });
  const ctx: DownloadCtx = {
    key,
    url: file.url,
    part,
    expected,
    fetchImpl: opts.fetchImpl,
    onProgress: opts.onProgress,
    notice,
    stallTimeoutMs: opts.stallTimeoutMs,
  };

  let digests: Digests | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      digests = await downloadAttempt(ctx);
      break;
    } catch (err) {
      const pe = err instanceof PullError ? err : new PullError(`${(err as Error).message} (${file.url})`, file.url, true, { cause: err });
      if (!pe.retryable || attempt >= opts.retries) {
        if (pe.retryable) {
          pe.message += ` — the partial download is kept in ${part}; run the same command again to resume.`;
        }
        throw pe;
      }
      notice(`${key}: ${pe.message}; resuming (attempt ${attempt + 2} of ${opts.retries + 1})`);
    }
  }

  const why = mismatch(digests, expected);
  if (why) {
    await rm(part, { force: true });
    throw new PullError(
      `verification failed for ${key} from ${file.url}: ${why}. The download was deleted. ` +
        (expected.source === 'lock'
          ? `The file differs from the one first downloaded; if upstream legitimately changed it, remove "${key}" from ${lockPath(modelsDir)} and pull again.`
          : 'Pull again; if it keeps failing the upstream file changed and the manifest needs review.'),
      file.url,
      false,
    );
  }
  await rename(part, dest);
  if (expected.source === 'none') {
    await pin(digests);
    return { name: file.name, path: dest, sha256: digests.sha256, size: digests.size, status: 'pinned', verifiedBy };
  }
  return { name: file.name, path: dest, sha256: digests.sha256, size: digests.size, status: 'downloaded', verifiedBy };
}

/** Download (or verify, if present) every file of `entry`, then run its post-download step. */
export async function pullModel(entry: ModelEntry, opts: PullOptions = {}): Promise<PullResult> {
  const modelsDir = opts.modelsDir ?? defaultModelsDir();
  const dir = modelDir(entry, modelsDir);
  const full = {
    ...opts,
    fetchImpl: opts.fetchImpl ?? ((input: string, init?: RequestInit) => fetch(input, init)),
    retries: opts.retries ?? 2,
    stallTimeoutMs: opts.stallTimeoutMs ?? 60_000,
  };
  const files: PulledFile[] = [];
  for (const file of entry.files) files.push(await pullFile(entry, file, dir, modelsDir, full));

  if (entry.postProcess === 'piper-sherpa') {
    const onnx = files.find((f) => f.name.endsWith('.onnx'));
    const config = files.find((f) => f.name.endsWith('.onnx.json'));
    if (!onnx || !config) throw new Error(`Piper entry ${entry.id} needs an .onnx and an .onnx.json file`);
    const modelOut = join(dir, `${entry.id}.sherpa.onnx`);
    const tokensOut = join(dir, 'tokens.txt');
    const fresh = files.some((f) => f.status !== 'present');
    if (fresh || (await sizeOf(modelOut)) === undefined || (await sizeOf(tokensOut)) === undefined) {
      await preparePiperForSherpa({ onnx: onnx.path, config: config.path, tokensOut, modelOut });
      opts.onNotice?.(`${entry.role}/${entry.id}: wrote tokens.txt and ${entry.id}.sherpa.onnx for sherpa-onnx`);
    }
  }
  return { entry, dir, files };
}
