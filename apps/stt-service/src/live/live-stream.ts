import { LIVE_SAMPLE_RATE, LIVE_SAMPLES_PER_MS, ParleyError, type LiveEvent, type UTTERANCE_ENDINGS } from '@parley/contracts';
import type { EngineTranscript } from '../engine/stt-engine.port.js';
import { DROPPED } from '../scheduler/transcription-scheduler.js';
import type { VoiceActivity, VoiceActivityDetector } from '../vad/voice-activity-detector.port.js';
import type { LiveMetrics } from './live-metrics.js';
import { lastVoicedSample, pcm16ToFloat32, SampleHistory } from './sample-history.js';

type UtteranceEnding = (typeof UTTERANCE_ENDINGS)[number];

/** How a live stream gets its audio transcribed (the scheduler in front of the engine). */
export interface LiveTranscriber {
  final(samples: Float32Array, signal: AbortSignal): Promise<EngineTranscript>;
  /** `read` is called when the partial's turn comes, so it transcribes the utterance as it is then. */
  partial(read: () => Float32Array, options: { signal: AbortSignal; isStale: () => boolean }): Promise<EngineTranscript | typeof DROPPED>;
  /** False while the replica is saturated: partials pause. */
  readonly acceptsPartials: boolean;
}

export interface LiveStreamOptions {
  /** The caller's clock at this stream's first sample. */
  startSample: number;
  partials: boolean;
  /** At most one partial per this much new audio. */
  partialIntervalMs: number;
  /** The detector's minimum silence: how far back the end of an utterance may be trimmed. */
  minSilenceMs: number;
  /** An utterance this long is ended (and transcribed) even if the speaker goes on. */
  maxUtteranceMs: number;
  /** A gap in the caller's clock larger than this is refused instead of filled with silence. */
  maxGapMs: number;
  replica: string;
}

interface Utterance {
  id: number;
  /** First sample (stream index). */
  start: number;
  /** Stream index when the last partial was asked for. */
  lastPartialAt: number;
  partial: AbortController | null;
}

/** Audio kept before speech is detected: the onset lies up to ~2 windows + min speech before detection. */
const PRE_SPEECH_SAMPLES = 3 * LIVE_SAMPLE_RATE;
/** Arrival times kept for the end-of-speech → final metric. */
const ARRIVALS_KEPT = 2048;

/**
 * One live audio stream: samples in (on the caller's clock), voice activity detection, partial
 * transcripts while an utterance grows, the final one when it ends. Emits LiveEvents in order;
 * a final is emitted after the previous utterance's final. Owns nothing outside itself but the
 * detector, given back by `dispose`.
 */
export class LiveStream {
  /** Samples received (stream index of the next sample). */
  private received = 0;
  /** Manual detection (no detector): where the audio since the last commit or clear begins. */
  private manualStart = 0;
  private readonly history = new SampleHistory();
  private utterance: Utterance | null = null;
  private nextUtteranceId = 1;
  /** Finals are emitted in utterance order, whatever order the engine finishes them in. */
  private finalsEmitted: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();
  /** [stream index one past a frame's last sample, wall-clock arrival] of recent frames. */
  private readonly arrivals: Array<[number, number]> = [];

  constructor(
    private readonly options: LiveStreamOptions,
    /** null: manual detection, utterances are what lies between commits. */
    private readonly detector: VoiceActivityDetector | null,
    private readonly transcriber: LiveTranscriber,
    private readonly metrics: LiveMetrics,
    private readonly emit: (event: LiveEvent) => void,
  ) {}

  /** Audio received so far, in ms on the caller's clock. */
  get atMs(): number {
    return this.ms(this.received);
  }

  /** One audio frame whose first sample is at `offset` on the caller's clock. */
  audio(offset: number, pcm: Uint8Array): void {
    const expected = this.options.startSample + this.received;
    let samples = pcm16ToFloat32(pcm);
    if (offset > expected) {
      const gap = offset - expected;
      if (gap > this.options.maxGapMs * LIVE_SAMPLES_PER_MS) {
        this.emit({ type: 'frame_rejected', message: `audio frame at sample ${offset} leaves a gap of ${gap} samples after ${expected}` });
        return;
      }
      // Lost frames: silence keeps the clock right.
      this.process(new Float32Array(gap));
    } else if (offset < expected) {
      // Repeated audio: keep only what is new.
      samples = samples.subarray(Math.min(samples.length, expected - offset));
    }
    if (samples.length > 0) this.process(samples);
  }

  /** Push-to-talk: the utterance in progress is finished now. */
  commit(): void {
    if (!this.detector) return this.commitManual();
    if (!this.utterance) {
      this.emit({ type: 'no_speech', at_ms: this.atMs });
      return;
    }
    this.detector.flush();
    this.endUtterance('commit', this.received);
  }

  /** Manual detection: everything since the last commit (or clear) is one utterance. */
  private commitManual(): void {
    if (this.received === this.manualStart) {
      this.emit({ type: 'no_speech', at_ms: this.atMs });
      return;
    }
    this.utterance = { id: this.nextUtteranceId++, start: this.manualStart, lastPartialAt: this.received, partial: null };
    this.emit({ type: 'speech_started', utterance_id: this.utterance.id, at_ms: this.ms(this.manualStart) });
    this.endUtterance('commit', this.received);
    this.manualStart = this.received;
    this.history.discardBefore(this.received);
  }

  /**
   * Forgets the utterance in progress: no final will be sent for it (its partial is dropped).
   * With a detector, speech still going on is not a new utterance until the detector has heard
   * it end; manual: the audio since the last commit is forgotten.
   */
  clear(): void {
    this.utterance?.partial?.abort();
    this.utterance = null;
    this.manualStart = this.received;
    this.history.discardBefore(this.received - (this.detector ? PRE_SPEECH_SAMPLES : 0));
  }

  /** End of audio: finishes the utterance in progress; resolves once every final has been emitted. */
  async close(): Promise<void> {
    if (!this.detector) {
      if (this.received > this.manualStart) this.commitManual();
    } else if (this.utterance) {
      this.detector.flush();
      this.endUtterance('close', this.received);
    }
    await this.finalsEmitted;
  }

  /** Stops all work of this stream at once (cancel, error, close done) and gives the detector back. */
  dispose(): void {
    this.abort.abort();
    this.utterance?.partial?.abort();
    this.utterance = null;
    this.detector?.release();
  }

  private process(samples: Float32Array): void {
    this.history.append(samples);
    this.noteArrival(this.received + samples.length);
    if (!this.detector) {
      // Manual: kept until the commit (bounded by the longest utterance).
      this.received += samples.length;
      const longest = this.options.maxUtteranceMs * LIVE_SAMPLES_PER_MS;
      if (this.received - this.manualStart >= longest) this.commitManual();
      return;
    }
    const started = performance.now();
    const activity = this.detector.accept(samples);
    this.metrics.vadRan((performance.now() - started) / 1000, samples.length / LIVE_SAMPLE_RATE);
    this.received += samples.length;
    for (const event of activity) this.onActivity(event);
    const open = this.utterance;
    if (open && this.received - open.start >= this.options.maxUtteranceMs * LIVE_SAMPLES_PER_MS) {
      this.detector.flush();
      this.endUtterance('max_length', this.received);
    }
    if (this.utterance) this.maybeAskPartial(this.utterance);
    else this.history.discardBefore(this.received - PRE_SPEECH_SAMPLES);
  }

  private onActivity(event: VoiceActivity): void {
    if (event.type === 'speech_started') {
      if (this.utterance) return;
      this.utterance = { id: this.nextUtteranceId++, start: event.start, lastPartialAt: event.start, partial: null };
      this.emit({ type: 'speech_started', utterance_id: this.utterance.id, at_ms: this.ms(event.start) });
    } else {
      this.endUtterance('silence', event.end);
    }
  }

  private endUtterance(reason: UtteranceEnding, end: number): void {
    const utterance = this.utterance;
    if (!utterance) return;
    this.utterance = null;
    utterance.partial?.abort();
    const samples = this.history.slice(utterance.start, end);
    const window = 10 * LIVE_SAMPLES_PER_MS;
    const maxTrim = this.options.minSilenceMs * LIVE_SAMPLES_PER_MS;
    const lastVoiced = utterance.start + lastVoicedSample(samples, { rangeDb: 40, maxTrim, window });
    this.emit({ type: 'speech_stopped', utterance_id: utterance.id, at_ms: this.ms(lastVoiced), reason });
    this.metrics.utteranceEnded(reason);

    const speechEndedAt = this.arrivalOf(lastVoiced);
    // Queued at once (finals go before partials); emitted after the previous utterance's final.
    const result = this.transcriber.final(samples, this.abort.signal).then(
      (transcript) => ({ transcript }),
      (error: unknown) => ({ error: ParleyError.from(error, 'ENGINE_FAILED') }),
    );
    this.finalsEmitted = this.finalsEmitted.then(async () => {
      const outcome = await result;
      if (this.abort.signal.aborted) return;
      if ('error' in outcome) {
        this.emit({ type: 'transcription_failed', utterance_id: utterance.id, code: outcome.error.code, message: outcome.error.message });
        return;
      }
      const { transcript } = outcome;
      this.emit({
        type: 'transcription',
        utterance_id: utterance.id,
        text: transcript.text,
        language: transcript.language,
        language_probability: transcript.languageProbability,
        start_ms: this.ms(utterance.start),
        end_ms: this.ms(lastVoiced),
        replica: this.options.replica,
      });
      this.metrics.finalSent((Date.now() - speechEndedAt) / 1000);
    });
  }

  /** At most one partial in flight (or waiting) per stream, at most one per interval of new audio. */
  private maybeAskPartial(utterance: Utterance): void {
    if (!this.options.partials || utterance.partial) return;
    if (this.received - utterance.lastPartialAt < this.options.partialIntervalMs * LIVE_SAMPLES_PER_MS) return;
    if (!this.transcriber.acceptsPartials) return;
    utterance.lastPartialAt = this.received;
    const control = new AbortController();
    const onStreamAbort = () => control.abort();
    this.abort.signal.addEventListener('abort', onStreamAbort, { once: true });
    utterance.partial = control;
    let through = this.received;
    const read = () => {
      through = this.received;
      return this.history.slice(utterance.start, through);
    };
    this.transcriber
      .partial(read, { signal: control.signal, isStale: () => this.utterance !== utterance })
      .then(
        (result) => {
          if (result === DROPPED) return; // counted by the scheduler
          if (this.utterance !== utterance) return this.metrics.partialDropped(); // the final is on its way
          if (!result.text) return;
          this.emit({ type: 'partial_transcription', utterance_id: utterance.id, transcript: result.text, through_ms: this.ms(through) });
          this.metrics.partialSent();
        },
        () => {
          // Aborted because the utterance ended (or the stream went away), or the engine failed:
          // a partial is only a preview, the final will say what was said.
          if (!this.abort.signal.aborted) this.metrics.partialDropped();
        },
      )
      .finally(() => {
        this.abort.signal.removeEventListener('abort', onStreamAbort);
        if (utterance.partial === control) utterance.partial = null;
      });
  }

  private ms(streamSample: number): number {
    return Math.round((this.options.startSample + streamSample) / LIVE_SAMPLES_PER_MS);
  }

  private noteArrival(endSample: number): void {
    this.arrivals.push([endSample, Date.now()]);
    if (this.arrivals.length > ARRIVALS_KEPT) this.arrivals.splice(0, this.arrivals.length - ARRIVALS_KEPT);
  }

  /** When the frame holding `sample` arrived (now if it is older than what is kept). */
  private arrivalOf(sample: number): number {
    for (const [end, at] of this.arrivals) if (end >= sample) return at;
    return Date.now();
  }
}
