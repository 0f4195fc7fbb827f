import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, Observable, Subject, toArray } from 'rxjs';
import type { CompressedSpeechFormat, PcmChunk } from './audio-encoder.port.js';
import { FfmpegAudioEncoder } from './ffmpeg-audio-encoder.js';

const RATE = 22050;

/** `seconds` of a 440 Hz tone as 16-bit PCM, in 100 ms chunks (as a voice's sentences arrive). */
function tone(seconds: number): PcmChunk[] {
  const chunks: PcmChunk[] = [];
  const perChunk = RATE / 10;
  for (let start = 0; start < seconds * RATE; start += perChunk) {
    const samples = new Int16Array(perChunk);
    for (let i = 0; i < perChunk; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (start + i)) / RATE));
    chunks.push({ sampleRate: RATE, pcm: new Uint8Array(samples.buffer) });
  }
  return chunks;
}

/** The codec ffprobe names in `bytes`, and how long they last once decoded (seconds). */
function probe(bytes: Buffer): { codec: string; duration: number } {
  const dir = mkdtempSync(join(tmpdir(), 'parley-encoded-'));
  try {
    const file = join(dir, 'speech');
    writeFileSync(file, bytes);
    const streams = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'json', file], { encoding: 'utf8' });
    const codec = (JSON.parse(streams.stdout) as { streams: Array<{ codec_name: string }> }).streams[0]!.codec_name;
    // Decoded rather than read from the container: ADTS (aac) carries no duration.
    const decoded = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 's16le', '-ac', '1', '-ar', '16000', 'pipe:1'], { maxBuffer: 64 * 1024 * 1024 });
    return { codec, duration: decoded.stdout.length / 2 / 16000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('FfmpegAudioEncoder (real ffmpeg)', () => {
  const encoder = new FfmpegAudioEncoder();

  it.each<[CompressedSpeechFormat, string]>([
    ['mp3', 'mp3'],
    ['opus', 'opus'],
    ['aac', 'aac'],
    ['flac', 'flac'],
  ])('encodes streamed PCM as %s that decodes to the same length', async (format, codec) => {
    const pieces = await lastValueFrom(encoder.encode(new Observable<PcmChunk>((s) => { tone(1.5).forEach((c) => s.next(c)); s.complete(); }), format).pipe(toArray()));
    const info = probe(Buffer.concat(pieces));
    expect(info.codec).toBe(codec);
    expect(info.duration).toBeGreaterThan(1.3);
    expect(info.duration).toBeLessThan(1.8);
  });

  it('sends encoded bytes before the speech has ended', async () => {
    const pcm = new Subject<PcmChunk>();
    const first = new Promise<Buffer>((resolve) => {
      const subscription = encoder.encode(pcm, 'mp3').subscribe((bytes) => {
        resolve(bytes);
        subscription.unsubscribe();
      });
    });
    // Keep feeding until ffmpeg has written something, without ever completing the input.
    const feeding = setInterval(() => tone(0.5).forEach((c) => pcm.next(c)), 20);
    try {
      expect((await first).length).toBeGreaterThan(0);
    } finally {
      clearInterval(feeding);
    }
    expect(pcm.observed).toBe(false); // unsubscribing let go of the synthesis too
  });

  it('passes on an error of the synthesis, and says so when it produced no audio', async () => {
    const failing = new Observable<PcmChunk>((s) => {
      s.next(tone(0.2)[0]!);
      s.error(new Error('tts went away'));
    });
    await expect(lastValueFrom(encoder.encode(failing, 'mp3'))).rejects.toThrow('tts went away');
    await expect(lastValueFrom(encoder.encode(new Observable<PcmChunk>((s) => s.complete()), 'mp3'))).rejects.toThrow(/produced no audio/);
  });

  it('says which ffmpeg it could not run', async () => {
    const missing = new FfmpegAudioEncoder('/nonexistent/ffmpeg');
    await expect(lastValueFrom(missing.encode(new Observable<PcmChunk>((s) => { s.next(tone(0.1)[0]!); s.complete(); }), 'mp3'))).rejects.toThrow(/ffmpeg could not run \(\/nonexistent\/ffmpeg\)/);
  });
});
