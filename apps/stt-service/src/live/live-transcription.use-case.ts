import { Inject, Injectable, Logger } from '@nestjs/common';
import { LIVE_SAMPLE_RATE, ParleyError, type LiveDetection, type LiveEvent, type LiveInputFrame } from '@parley/contracts';
import { ModelLifecycle } from '@parley/service-kit';
import { Observable } from 'rxjs';
import type { SttServiceConfig } from '../config.js';
import { STT_ENGINE, type SttEngine } from '../engine/stt-engine.port.js';
import { TranscriptionScheduler } from '../scheduler/transcription-scheduler.js';
import { STT_CONFIG } from '../tokens.js';
import { VAD_POOL, type VoiceActivityDetectorPool } from '../vad/voice-activity-detector.port.js';
import { LIVE_AUDIO_SOURCE, type LiveAudioSource } from './live-audio-source.port.js';
import { LiveMetrics } from './live-metrics.js';
import { LiveStream, type LiveTranscriber } from './live-stream.js';

export interface LiveOpenCommand {
  request_id: string;
  language: string;
  start_sample: number;
  partials: boolean;
  detection: LiveDetection;
}

/**
 * Owns live streams on this replica: listens to each stream's audio subject, runs a LiveStream
 * over it, and turns its events into the reply stream, with heartbeats (so the caller notices a
 * dead replica) and an idle timeout (so a stream whose caller vanished does not live forever).
 * Unsubscribing (cancel, deadline, caller gone) stops everything of that stream.
 */
@Injectable()
export class LiveTranscriptionUseCase {
  private readonly logger = new Logger('live');
  private active = 0;

  constructor(
    @Inject(STT_ENGINE) private readonly engine: SttEngine,
    @Inject(ModelLifecycle) private readonly model: ModelLifecycle,
    @Inject(TranscriptionScheduler) private readonly scheduler: TranscriptionScheduler,
    @Inject(VAD_POOL) private readonly vadPool: VoiceActivityDetectorPool,
    @Inject(LIVE_AUDIO_SOURCE) private readonly audioSource: LiveAudioSource,
    @Inject(LiveMetrics) private readonly metrics: LiveMetrics,
    @Inject(STT_CONFIG) private readonly config: SttServiceConfig,
  ) {}

  open(command: LiveOpenCommand): Observable<LiveEvent> {
    return new Observable<LiveEvent>((subscriber) => {
      const { live } = this.config;
      this.model.requireLoaded();
      if (this.active >= live.maxStreams) {
        throw new ParleyError('SERVICE_BUSY', `this replica already owns ${this.active} live streams (STT_LIVE_MAX_STREAMS)`);
      }
      const { detection } = command;
      const vad = detection.mode === 'vad' ? { threshold: detection.threshold, minSilenceMs: detection.min_silence_ms } : undefined;
      let detector = null;
      try {
        // Manual detection needs no detector: commits end utterances.
        if (vad) detector = this.vadPool.acquire(vad);
      } catch (error) {
        throw new ParleyError('MODEL_NOT_LOADED', `voice activity detection is unavailable: ${(error as Error).message}`);
      }
      this.active += 1;
      this.metrics.activeStreams.inc();
      const stream = new LiveStream(
        {
          startSample: command.start_sample,
          // Manual: nothing to preview between commits.
          partials: command.partials && detector !== null,
          partialIntervalMs: live.partialIntervalMs,
          minSilenceMs: vad?.minSilenceMs ?? this.vadPool.settings.minSilenceMs,
          maxUtteranceMs: live.maxUtteranceMs,
          maxGapMs: live.maxGapMs,
          replica: this.model.replica,
        },
        detector,
        this.transcriber(command.language),
        this.metrics,
        (event) => subscriber.next(event),
      );

      let closing = false;
      let idleTimer: NodeJS.Timeout | undefined;
      const fail = (error: unknown) => subscriber.error(ParleyError.from(error, 'INTERNAL'));
      const touch = () => {
        clearTimeout(idleTimer);
        idleTimer = setTimeout(
          () => fail(new ParleyError('TIMEOUT', `no audio or keepalive for ${live.idleTimeoutMs} ms: the live stream was closed`)),
          live.idleTimeoutMs,
        );
      };
      const onFrame = (frame: LiveInputFrame) => {
        if (closing) return;
        touch();
        try {
          if (frame.type === 'audio') stream.audio(frame.offset, frame.pcm);
          else if (frame.type === 'commit') stream.commit();
          else if (frame.type === 'clear') stream.clear();
          else if (frame.type === 'close') {
            closing = true;
            clearTimeout(idleTimer);
            stream.close().then(() => subscriber.complete(), fail);
          }
        } catch (error) {
          fail(error);
        }
      };
      const heartbeat = setInterval(() => subscriber.next({ type: 'heartbeat', at_ms: stream.atMs }), live.heartbeatMs);
      let listening: { close(): void } | undefined;
      let torn = false;
      this.audioSource
        .listen(command.request_id, {
          frame: onFrame,
          invalid: (reason) => subscriber.next({ type: 'frame_rejected', message: reason }),
        })
        .then((handle) => {
          if (torn) return handle.close();
          listening = handle;
          touch();
          subscriber.next({
            type: 'opened',
            stream_id: command.request_id,
            replica: this.model.replica,
            sample_rate: LIVE_SAMPLE_RATE,
            heartbeat_ms: live.heartbeatMs,
          });
        }, fail);

      return () => {
        torn = true;
        clearInterval(heartbeat);
        clearTimeout(idleTimer);
        listening?.close();
        stream.dispose();
        this.active -= 1;
        this.metrics.activeStreams.dec();
        this.logger.debug(`live stream ${command.request_id} ended at ${stream.atMs} ms`);
      };
    });
  }

  private transcriber(language: string): LiveTranscriber {
    const { engine, scheduler } = this;
    return {
      final: (samples, signal) => scheduler.run(() => engine.transcribe({ samples, language }, signal), signal),
      partial: (read, { signal, isStale }) =>
        scheduler.runPartial(() => engine.transcribe({ samples: read(), language }, signal), { signal, isStale }),
      get acceptsPartials() {
        return scheduler.acceptsPartials;
      },
    };
  }
}
