import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { ParleyError } from '@parley/contracts';
import { Observable } from 'rxjs';
import type { AudioEncoder, CompressedSpeechFormat, PcmChunk } from './audio-encoder.port.js';

/**
 * ffmpeg's output options per format, as OpenAI serves them: MP3, Opus in Ogg (libopus takes
 * 48/24/16/12/8 kHz only, so it is resampled to 48 kHz), AAC in ADTS (streamable, unlike MP4) and FLAC.
 */
const OUTPUT_OPTIONS: Record<CompressedSpeechFormat, string[]> = {
  mp3: ['-c:a', 'libmp3lame', '-b:a', '64k', '-f', 'mp3'],
  opus: ['-c:a', 'libopus', '-b:a', '32k', '-ar', '48000', '-f', 'ogg'],
  aac: ['-c:a', 'aac', '-b:a', '64k', '-f', 'adts'],
  flac: ['-c:a', 'flac', '-f', 'flac'],
};

/** The encoder as an ffmpeg child per request, fed the PCM on stdin; its stdout is the answer. */
export class FfmpegAudioEncoder implements AudioEncoder {
  constructor(private readonly ffmpegPath = 'ffmpeg') {}

  encode(pcm: Observable<PcmChunk>, format: CompressedSpeechFormat): Observable<Buffer> {
    return new Observable<Buffer>((subscriber) => {
      let ffmpeg: ChildProcessWithoutNullStreams | undefined;
      let stderr = '';
      // The sample rate is the voice's, known with the first chunk: ffmpeg starts then.
      const start = (sampleRate: number) => {
        const child = spawn(this.ffmpegPath, [
          '-hide_banner', '-loglevel', 'error',
          '-f', 's16le', '-ar', String(sampleRate), '-ac', '1', '-i', 'pipe:0',
          ...OUTPUT_OPTIONS[format],
          // Each encoded packet is written at once, so the client hears the first sentence early.
          '-flush_packets', '1', 'pipe:1',
        ]);
        child.stdout.on('data', (bytes: Buffer) => subscriber.next(bytes));
        child.stderr.on('data', (text: Buffer) => (stderr = (stderr + text.toString()).slice(-2000)));
        // A write after ffmpeg died fails with EPIPE; its exit (below) says why.
        child.stdin.on('error', () => undefined);
        child.on('error', (error) => subscriber.error(new ParleyError('INTERNAL', `ffmpeg could not run (${this.ffmpegPath}): ${error.message}`)));
        child.on('close', (code) => {
          if (code === 0) subscriber.complete();
          else if (!subscriber.closed) subscriber.error(new ParleyError('INTERNAL', `ffmpeg could not encode ${format} (exit ${code}): ${stderr.trim()}`));
        });
        return child;
      };
      const upstream = pcm.subscribe({
        next: (chunk) => {
          ffmpeg ??= start(chunk.sampleRate);
          ffmpeg.stdin.write(chunk.pcm);
        },
        error: (error: unknown) => {
          ffmpeg?.kill('SIGKILL');
          subscriber.error(error);
        },
        complete: () => {
          if (ffmpeg) ffmpeg.stdin.end();
          else subscriber.error(new ParleyError('INTERNAL', 'the synthesis produced no audio'));
        },
      });
      return () => {
        upstream.unsubscribe();
        if (ffmpeg && ffmpeg.exitCode === null) ffmpeg.kill('SIGKILL');
      };
    });
  }
}
