import { Inject, Injectable } from '@nestjs/common';
import { METRICS, MODEL_OPERATIONS, ParleyError, type ParsedSynthesizeRequest, type SynthesizeStreamMessage } from '@parley/contracts';
import { ConcurrencyGate, ModelLifecycle, ServiceMetrics } from '@parley/service-kit';
import { Observable } from 'rxjs';
import { floatToPcm16, splitPcm } from '../audio/pcm.js';
import { TTS_ENGINE, type SynthesisResult, type TtsEngine } from '../engine/tts-engine.port.js';
import { SYNTHESIS_OPTIONS, type SynthesisOptions } from './synthesis-options.js';
import { selectVoice } from './voice-selection.js';

/**
 * Streams one synthesis: 16-bit PCM chunks as the engine produces them (a sentence at a time),
 * then one `done`. Unsubscribing (the caller cancelled, or the request deadline passed) stops
 * consuming and cancels the native generation; so does the generation timeout, with TIMEOUT.
 */
@Injectable()
export class SynthesizeUseCase {
  constructor(
    @Inject(TTS_ENGINE) private readonly engine: TtsEngine,
    @Inject(ModelLifecycle) private readonly model: ModelLifecycle,
    @Inject(ConcurrencyGate) private readonly gate: ConcurrencyGate,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
    @Inject(SYNTHESIS_OPTIONS) private readonly options: SynthesisOptions,
  ) {
    this.realTimeFactor = metrics.histogram(METRICS.ttsRealTimeFactor);
    this.audioSeconds = metrics.counter(METRICS.ttsAudio);
  }

  private readonly realTimeFactor;
  private readonly audioSeconds;

  stream(request: ParsedSynthesizeRequest): Observable<SynthesizeStreamMessage> {
    return new Observable<SynthesizeStreamMessage>((subscriber) => {
      try {
        this.model.requireLoaded();
      } catch (error) {
        subscriber.error(error);
        return;
      }
      const voice = (() => {
        try {
          return selectVoice(this.engine.voices(), this.engine.defaultVoice, request);
        } catch (error) {
          subscriber.error(error);
          return undefined;
        }
      })();
      if (!voice) return;

      const endRequest = this.metrics.startRequest(MODEL_OPERATIONS.tts);
      const abort = new AbortController();
      let seq = 0;
      const onAudio = (samples: Float32Array) => {
        for (const pcm of splitPcm(floatToPcm16(samples), this.options.maxPcmBytesPerMessage)) {
          subscriber.next({ type: 'audio', seq: seq++, sample_rate: voice.sampleRate, pcm });
        }
      };
      const generation = { voice: voice.id, text: request.text, speakerId: request.speaker_id, speed: request.speed };
      this.gate
        .run(async () => {
          const startedMs = performance.now();
          const result = await this.withTimeout(this.engine.synthesize(generation, onAudio, abort.signal), abort);
          return { ...result, synthesisMs: performance.now() - startedMs };
        }, abort.signal)
        .then((result) => {
          if (result.stopped) {
            endRequest('cancelled');
            return;
          }
          endRequest('ok');
          this.observeSpeech(voice.id, result.samples / result.sampleRate, result.synthesisMs / 1000);
          subscriber.next({ type: 'done', voice: voice.id, sample_rate: result.sampleRate, samples: result.samples, replica: this.model.replica });
          subscriber.complete();
        })
        .catch((error: unknown) => {
          const failure = ParleyError.from(error, 'ENGINE_FAILED');
          endRequest(failure.code);
          subscriber.error(failure);
        });
      return () => {
        // Runs on completion too; only a synthesis still under way is cut short.
        if (!abort.signal.aborted) abort.abort();
        endRequest('cancelled');
      };
    });
  }

  private observeSpeech(voice: string, audioSeconds: number, synthesisSeconds: number): void {
    const labels = { service: this.metrics.service, voice };
    this.audioSeconds.inc(labels, audioSeconds);
    if (audioSeconds > 0) this.realTimeFactor.observe(labels, synthesisSeconds / audioSeconds);
  }

  /** Abandons a generation that runs past the timeout: stop consuming, cancel natively, TIMEOUT. */
  private withTimeout(work: Promise<SynthesisResult>, abort: AbortController): Promise<SynthesisResult> {
    const ms = this.options.generationTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new ParleyError('TIMEOUT', `speech synthesis took longer than ${ms} ms and was stopped`));
        abort.abort();
      }, ms);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
}
