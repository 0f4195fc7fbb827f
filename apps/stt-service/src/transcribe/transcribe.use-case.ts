import { Inject, Injectable, Logger } from '@nestjs/common';
import { ParleyError, type Transcription } from '@parley/contracts';
import { ModelLifecycle, ServiceMetrics } from '@parley/service-kit';
import { Observable } from 'rxjs';
import { assertNotSilent, decodeAudio, probeFfmpeg } from '../audio/index.js';
import { AUDIO_STORE, type AudioStore } from '../audio-store/audio-store.port.js';
import type { SttServiceConfig } from '../config.js';
import { STT_ENGINE, type SttEngine } from '../engine/stt-engine.port.js';
import { TranscriptionScheduler } from '../scheduler/transcription-scheduler.js';
import { STT_CONFIG } from '../tokens.js';

export interface TranscribeCommand {
  request_id: string;
  audio_object: string;
  language: string;
}

/**
 * Transcribes one upload: read it from the object store (and delete it), decode it to 16 kHz
 * mono, refuse silence, run the engine, reply once. Unsubscribing (cancel, deadline) aborts it.
 */
@Injectable()
export class TranscribeUseCase {
  private readonly logger = new Logger('transcribe');
  private readonly ffmpegPath: string | undefined;

  constructor(
    @Inject(STT_ENGINE) private readonly engine: SttEngine,
    @Inject(AUDIO_STORE) private readonly store: AudioStore,
    @Inject(ModelLifecycle) private readonly model: ModelLifecycle,
    @Inject(TranscriptionScheduler) private readonly scheduler: TranscriptionScheduler,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
    @Inject(STT_CONFIG) private readonly config: SttServiceConfig,
  ) {
    const ffmpeg = probeFfmpeg(config.ffmpegPath);
    if (ffmpeg.ok) {
      this.ffmpegPath = config.ffmpegPath;
      this.logger.log(`decoding non-WAV audio with ${ffmpeg.version}`);
    } else {
      this.logger.error(`ffmpeg is unavailable (${ffmpeg.error}): only PCM WAV uploads can be transcribed (set FFMPEG_BIN or install ffmpeg)`);
    }
  }

  transcribe(command: TranscribeCommand): Observable<Transcription> {
    return new Observable<Transcription>((subscriber) => {
      const abort = new AbortController();
      const endRequest = this.metrics.startRequest('transcribe');
      let objectConsumed = false;
      const work = async (): Promise<Transcription> => {
        this.model.requireLoaded();
        // An upload is a final: it goes before any live partial waiting for whisper-server.
        return this.scheduler.run(async () => {
          const bytes = await this.store.read(command.audio_object, this.config.maxAudioBytes);
          objectConsumed = true;
          void this.store.remove(command.audio_object);
          const audio = await decodeAudio(bytes, {
            maxSeconds: this.config.maxAudioSeconds,
            ffmpegPath: this.ffmpegPath,
            ffmpegTimeoutMs: this.config.engine.requestTimeoutMs,
            signal: abort.signal,
          });
          assertNotSilent(audio.samples, this.config.silenceThresholdDbfs);
          const result = await this.engine.transcribe({ samples: audio.samples, language: command.language }, abort.signal);
          if (!result.text) throw new ParleyError('NO_SPEECH', 'no speech detected: the recogniser heard no words');
          return {
            text: result.text,
            language: result.language,
            language_probability: result.languageProbability,
            segments: result.segments,
            duration_ms: audio.durationMs,
            replica: this.model.replica,
          };
        }, abort.signal);
      };
      work()
        .then((transcription) => {
          endRequest('ok');
          subscriber.next(transcription);
          subscriber.complete();
        })
        .catch((error: unknown) => {
          const failure = ParleyError.from(error, 'ENGINE_FAILED');
          endRequest(failure.code);
          subscriber.error(failure);
        })
        .finally(() => {
          // Refused, cancelled or failed before reading: the upload is of no use to anyone now.
          if (!objectConsumed) void this.store.remove(command.audio_object);
        });
      return () => {
        if (!abort.signal.aborted) abort.abort();
        endRequest('cancelled');
      };
    });
  }
}
