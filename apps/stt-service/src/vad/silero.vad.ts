import { Logger } from '@nestjs/common';
import { LIVE_SAMPLE_RATE } from '@parley/contracts';
import sherpa, { type Vad } from 'sherpa-onnx-node';
import { resolveSileroModelPath } from './silero-model.js';
import type { VadOverrides, VadSettings, VoiceActivity, VoiceActivityDetector, VoiceActivityDetectorPool } from './voice-activity-detector.port.js';

/** Silero v5 at 16 kHz: the model reads 512 new samples per window plus 64 of context (sherpa-onnx). */
const WINDOW_SHIFT = 512;
const WINDOW_SIZE = WINDOW_SHIFT + 64;

/** sherpa-onnx computes durations in samples as (int)(16000 * float seconds). */
const samplesOf = (ms: number) => Math.trunc(Math.fround(Math.fround(ms / 1000) * LIVE_SAMPLE_RATE));

/**
 * One stream's detector on sherpa-onnx's Silero VAD. sherpa-onnx reports a segment only when it
 * ends; to say where speech STARTS at the moment it is detected, this mirrors how sherpa-onnx
 * places a segment's start (voice-activity-detector.cc: `tail - 2 * window_size - min_speech`,
 * not before the previous segment's end), feeding the detector one window at a time so that
 * `tail` is known exactly. The segment reported at the end carries sherpa's own start.
 */
class SileroVoiceActivityDetector implements VoiceActivityDetector {
  /** Samples moved into sherpa's buffer (its `Tail()`), and those still waiting for a full window. */
  private tail = 0;
  private pending = 0;
  private previousEnd = 0;
  private open = false;
  private released = false;

  constructor(
    private readonly vad: Vad,
    private readonly minSpeechSamples: number,
    private readonly giveBack: (vad: Vad) => void,
  ) {}

  get inSpeech(): boolean {
    return this.open;
  }

  accept(samples: Float32Array): VoiceActivity[] {
    const events: VoiceActivity[] = [];
    for (let at = 0; at < samples.length; at += WINDOW_SHIFT) {
      const piece = samples.subarray(at, Math.min(samples.length, at + WINDOW_SHIFT));
      this.vad.acceptWaveform(piece);
      this.advanceTail(piece.length);
      this.drain(events);
      if (!this.open && this.vad.isDetected()) {
        this.open = true;
        const start = Math.max(this.tail - 2 * WINDOW_SIZE - this.minSpeechSamples, this.previousEnd, 0);
        events.push({ type: 'speech_started', start });
      }
    }
    return events;
  }

  flush(): VoiceActivity[] {
    const events: VoiceActivity[] = [];
    this.vad.flush();
    this.drain(events);
    return events;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.giveBack(this.vad);
  }

  /** Mirrors sherpa-onnx's windowing: once WINDOW_SIZE samples wait, whole shifts move into the buffer. */
  private advanceTail(fed: number): void {
    this.pending += fed;
    if (this.pending < WINDOW_SIZE) return;
    const windows = Math.floor((this.pending - WINDOW_SIZE) / WINDOW_SHIFT) + 1;
    this.tail += windows * WINDOW_SHIFT;
    this.pending -= windows * WINDOW_SHIFT;
  }

  private drain(events: VoiceActivity[]): void {
    while (!this.vad.isEmpty()) {
      const segment = this.vad.front(true);
      const end = segment.start + segment.samples.length;
      this.vad.pop();
      // A segment can open and close within one call (a very short window of speech detected late).
      if (!this.open) events.push({ type: 'speech_started', start: segment.start });
      events.push({ type: 'speech_ended', start: segment.start, end });
      this.open = false;
      this.previousEnd = end;
    }
  }
}

/**
 * Silero VAD detectors, one per live stream. Creating one loads the model (~150 ms on the event
 * loop, ~17 MB each), so released detectors are reset and kept for the next stream.
 */
export class SileroVadPool implements VoiceActivityDetectorPool {
  private readonly logger = new Logger('silero-vad');
  private readonly idle: Vad[] = [];
  private modelPath: string | undefined;

  constructor(
    readonly settings: VadSettings,
    private readonly options: { modelPath: string | undefined; maxIdle: number; warm: number },
  ) {}

  async load(): Promise<void> {
    this.modelPath = resolveSileroModelPath(this.options.modelPath);
    const started = performance.now();
    for (let i = 0; i < Math.max(1, this.options.warm); i++) this.idle.push(this.create(this.settings));
    this.logger.log(
      `Silero VAD ${this.modelPath} ready (${this.idle.length} detector(s) in ${Math.round(performance.now() - started)} ms; ` +
        `threshold ${this.settings.threshold}, min speech ${this.settings.minSpeechMs} ms, min silence ${this.settings.minSilenceMs} ms)`,
    );
  }

  acquire(overrides: VadOverrides = {}): VoiceActivityDetector {
    const settings = {
      ...this.settings,
      threshold: overrides.threshold ?? this.settings.threshold,
      minSilenceMs: overrides.minSilenceMs ?? this.settings.minSilenceMs,
    };
    // A stream with its own settings gets a detector of its own (a model load), dropped when it ends.
    const own = settings.threshold !== this.settings.threshold || settings.minSilenceMs !== this.settings.minSilenceMs;
    const vad = own ? this.create(settings) : (this.idle.pop() ?? this.create(this.settings));
    return new SileroVoiceActivityDetector(vad, samplesOf(settings.minSpeechMs), (used) => {
      if (own) return;
      used.reset();
      if (this.idle.length < this.options.maxIdle) this.idle.push(used);
    });
  }

  private create(settings: VadSettings): Vad {
    if (!this.modelPath) throw new Error('the VAD model is not loaded');
    const { threshold, minSpeechMs, minSilenceMs, maxSpeechMs } = settings;
    return new sherpa.Vad(
      {
        sileroVad: {
          model: this.modelPath,
          threshold,
          minSpeechDuration: minSpeechMs / 1000,
          minSilenceDuration: minSilenceMs / 1000,
          maxSpeechDuration: maxSpeechMs / 1000,
          windowSize: WINDOW_SHIFT,
        },
        sampleRate: LIVE_SAMPLE_RATE,
        numThreads: 1,
        debug: 0,
      },
      // Its buffer holds the open segment: room for the longest one plus the pre-speech context.
      maxSpeechMs / 1000 + 10,
    );
  }
}
