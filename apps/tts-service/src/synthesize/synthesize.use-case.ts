import { Inject, Injectable } from '@nestjs/common';
import { METRICS, MODEL_OPERATIONS, type ParsedSynthesizeRequest, type SynthesizeStreamMessage } from '@parley/contracts';
import { ConcurrencyGate, engineRequest, ModelLifecycle, ServiceMetrics } from '@parley/service-kit';
import type { Observable } from 'rxjs';
import { floatToPcm16, splitPcm } from '../audio/pcm.js';
import { TTS_ENGINE, type TtsEngine } from '../engine/tts-engine.port.js';
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
    return engineRequest<SynthesizeStreamMessage>({
      operation: MODEL_OPERATIONS.tts,
      model: this.model,
      gate: this.gate,
      metrics: this.metrics,
      timeout: {
        ms: this.options.generationTimeoutMs,
        message: `speech synthesis took longer than ${this.options.generationTimeoutMs} ms and was stopped`,
      },
      run: async (emit, signal) => {
        const voice = selectVoice(this.engine.voices(), this.engine.defaultVoice, request);
        let seq = 0;
        const onAudio = (samples: Float32Array) => {
          for (const pcm of splitPcm(floatToPcm16(samples), this.options.maxPcmBytesPerMessage)) {
            emit({ type: 'audio', seq: seq++, sample_rate: voice.sampleRate, pcm });
          }
        };
        const generation = { voice: voice.id, text: request.text, speakerId: request.speaker_id, speed: request.speed };
        const startedMs = performance.now();
        const result = await this.engine.synthesize(generation, onAudio, signal);
        if (!signal.aborted) this.observeSpeech(voice.id, result.samples / result.sampleRate, (performance.now() - startedMs) / 1000);
        return [{ type: 'done', voice: voice.id, sample_rate: result.sampleRate, samples: result.samples, replica: this.model.replica }];
      },
    });
  }

  /** Seconds of speech, and the real-time factor (synthesis time over speech duration). */
  private observeSpeech(voice: string, audioSeconds: number, synthesisSeconds: number): void {
    const labels = { service: this.metrics.service, voice };
    this.audioSeconds.inc(labels, audioSeconds);
    if (audioSeconds > 0) this.realTimeFactor.observe(labels, synthesisSeconds / audioSeconds);
  }
}
