import { Inject, Injectable, Logger } from '@nestjs/common';
import { MODEL_OPERATIONS, ParleyError, type Transcription } from '@parley/contracts';
import { engineRequest, ModelLifecycle, ServiceMetrics } from '@parley/service-kit';
import { finalize, type Observable } from 'rxjs';
import { decodeAudio, probeFfmpeg } from '../audio/index.js';
import { AUDIO_STORE, type AudioStore } from '../audio-store/audio-store.port.js';
import type { SttServiceConfig } from '../config.js';
import { STT_ENGINE, type SttEngine } from '../engine/stt-engine.port.js';
import { TranscriptionScheduler } from '../scheduler/transcription-scheduler.js';
import { STT_CONFIG } from '../tokens.js';
import { assertNotSilent, spokenText } from './speech-presence.js';

export interface TranscribeCommand {
  request_id: string;
  audio_object: string;
  language: string;
  /** With `auto`: the languages the speaker may be using; the transcript is in the likeliest. */
  candidate_languages?: string[];
}

/**
 * Transcribes one upload: read it from the object store (and delete it), decode it to 16 kHz
 * mono, refuse silence, run the engine, reply once (speech-presence.ts decides NO_SPEECH). Unsubscribing (cancel, deadline) aborts it.
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
    let objectConsumed = false;
    return engineRequest<Transcription>({
      operation: MODEL_OPERATIONS.stt,
      model: this.model,
      // An upload is a final: it goes before any live partial waiting for whisper-server.
      gate: this.scheduler,
      metrics: this.metrics,
      run: async (_emit, signal) => {
        const bytes = await this.store.read(command.audio_object, this.config.maxAudioBytes);
        objectConsumed = true;
        void this.store.remove(command.audio_object);
        if (signal.aborted) throw new ParleyError('CANCELLED', 'cancelled while reading the upload');
        const audio = await decodeAudio(bytes, {
          maxSeconds: this.config.maxAudioSeconds,
          ffmpegPath: this.ffmpegPath,
          ffmpegTimeoutMs: this.config.engine.requestTimeoutMs,
          signal,
        });
        assertNotSilent(audio.samples, this.config.silenceThresholdDbfs);
        const result = await this.engine.transcribe(
          { samples: audio.samples, language: command.language, candidates: command.candidate_languages },
          signal,
        );
        return [
          {
            text: spokenText(result.text),
            language: result.language,
            language_probability: result.languageProbability,
            segments: result.segments,
            duration_ms: audio.durationMs,
            replica: this.model.replica,
          },
        ];
      },
    }).pipe(
      // Refused, cancelled or failed before reading: the upload is of no use to anyone now.
      finalize(() => {
        if (!objectConsumed) void this.store.remove(command.audio_object);
      }),
    );
  }
}
