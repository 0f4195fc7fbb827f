import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParleyError } from '@parley/contracts';
import type { AudioContainer } from './detect.js';
import { s16leToFloat } from './wav.js';

export interface FfmpegDecodeOptions {
  ffmpegPath: string;
  sampleRate: number;
  /** Output beyond this many seconds stops ffmpeg and fails the request (PAYLOAD_TOO_LARGE). */
  maxSeconds: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Whether `ffmpeg -version` runs; the error message otherwise. */
export function probeFfmpeg(ffmpegPath: string): { ok: true; version: string } | { ok: false; error: string } {
  const result = spawnSync(ffmpegPath, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 10_000 });
  if (result.error) return { ok: false, error: `${ffmpegPath} cannot run: ${result.error.message}` };
  if (result.status !== 0) return { ok: false, error: `${ffmpegPath} -version exited ${result.status}` };
  return { ok: true, version: result.stdout.split('\n')[0] ?? 'ffmpeg' };
}

/**
 * Decodes any container ffmpeg reads to 16-bit mono PCM at `sampleRate`, bytes in through stdin and
 * samples out through stdout, spawned with an argument array (no shell, no client-supplied names).
 * MP4/M4A is the exception: its index (moov) is often at the end, which a pipe cannot seek to, so
 * its bytes go to a private temporary file named by us.
 */
export async function decodeWithFfmpeg(bytes: Uint8Array, container: AudioContainer, options: FfmpegDecodeOptions): Promise<Float32Array> {
  const needsFile = container === 'mp4';
  const dir = needsFile ? await mkdtemp(join(tmpdir(), 'parley-stt-')) : undefined;
  try {
    let input = 'pipe:0';
    if (dir) {
      input = join(dir, 'input.mp4');
      await writeFile(input, bytes, { mode: 0o600 });
    }
    const args = [
      '-hide_banner', '-nostats', '-loglevel', 'error',
      '-i', input,
      '-map', '0:a:0', '-vn', '-sn', '-dn',
      '-ac', '1', '-ar', String(options.sampleRate),
      '-f', 's16le', '-acodec', 'pcm_s16le',
      'pipe:1',
    ];
    const pcm = await runFfmpeg(options, args, dir ? undefined : bytes, container);
    return s16leToFloat(pcm);
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

function runFfmpeg(options: FfmpegDecodeOptions, args: string[], stdin: Uint8Array | undefined, container: AudioContainer): Promise<Uint8Array> {
  const maxBytes = Math.ceil(options.maxSeconds * options.sampleRate) * 2;
  return new Promise<Uint8Array>((resolve, reject) => {
    const child = spawn(options.ffmpegPath, args, { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let outBytes = 0;
    let stderr = '';
    let failure: ParleyError | undefined;
    const stop = (error: ParleyError) => {
      failure ??= error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () => stop(new ParleyError('TIMEOUT', `decoding the ${container} audio took longer than ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    const onAbort = () => stop(new ParleyError('CANCELLED', 'cancelled while decoding the audio'));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout!.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > maxBytes) {
        stop(new ParleyError('PAYLOAD_TOO_LARGE', `the audio is longer than the limit of ${options.maxSeconds} s`));
        return;
      }
      chunks.push(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      if (stderr.length < 8192) stderr += chunk.toString();
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      failure ??=
        error.code === 'ENOENT'
          ? new ParleyError('ENGINE_FAILED', `cannot decode ${container} audio: ffmpeg is not installed on this replica (${options.ffmpegPath})`)
          : new ParleyError('ENGINE_FAILED', `cannot run ffmpeg: ${error.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (failure) return reject(failure);
      if (code !== 0) return reject(classifyFfmpegFailure(container, stderr, code, signal));
      if (outBytes < 2) return reject(new ParleyError('INVALID_REQUEST', `the ${container} file contains no audio samples`));
      resolve(Buffer.concat(chunks));
    });
    if (stdin && child.stdin) {
      // ffmpeg may exit before reading everything (garbage input): EPIPE is expected then.
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin);
    }
  });
}

function classifyFfmpegFailure(container: AudioContainer, stderr: string, code: number | null, signal: NodeJS.Signals | null): ParleyError {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const reason = lines.slice(-2).join(' / ').slice(0, 300) || (signal ? `killed by ${signal}` : `exit code ${code}`);
  if (/matches no streams|does not contain any stream|Output file .* does not contain/i.test(stderr)) {
    return new ParleyError('UNSUPPORTED_MEDIA', `the ${container} file has no audio stream`);
  }
  if (/Decoder .* not found|Unsupported codec|unknown codec|no decoder/i.test(stderr)) {
    return new ParleyError('UNSUPPORTED_MEDIA', `the ${container} file uses an audio codec we cannot decode: ${reason}`);
  }
  return new ParleyError('INVALID_REQUEST', `could not decode the ${container} audio (corrupt or truncated?): ${reason}`);
}
