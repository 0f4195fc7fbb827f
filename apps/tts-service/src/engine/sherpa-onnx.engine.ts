import { Logger } from '@nestjs/common';
import { ParleyError } from '@parley/contracts';
import sherpa, { type OfflineTts } from 'sherpa-onnx-node';
import { isEspeakNgDataDir } from '@parley/models';
import { unsafeInput } from './input-guard.js';
import type { SynthesisRequest, SynthesisResult, TtsEngine, VoiceInfo } from './tts-engine.port.js';
import { checkVoiceFiles } from './voice-files.js';

export interface VoiceConfig {
  id: string;
  /** Language codes (lower case). */
  languages: string[];
  /** Piper/VITS ONNX model prepared for sherpa-onnx (with `sample_rate` metadata). */
  model: string;
  tokens: string;
  /** Speakers to allow (at most the model's); default: the model's count. */
  speakers?: number;
}

export interface SherpaOnnxTtsConfig {
  voices: VoiceConfig[];
  defaultVoice: string;
  /** espeak-ng data directory (shared by all voices: sherpa-onnx initialises espeak-ng once per process). */
  espeakNgData: string | undefined;
  /** onnxruntime threads per voice. */
  threads: number;
}

/** Sentences per model run, hence per audio chunk: 1 streams speech sentence by sentence. */
const SENTENCES_PER_CHUNK = 1;
/** What the warm-up says (any short sentence: its content is irrelevant). */
const WARM_UP_TEXT = 'Hello there.';

/** A load that has not finished by then is reported as failed (a bad file can hang the native loader). */
const LOAD_TIMEOUT_MS = 120_000;

interface ResidentVoice extends VoiceInfo {
  tts: OfflineTts;
}

/**
 * The TTS engine on sherpa-onnx: every configured Piper voice loaded once (`createAsync`, off the
 * event loop) and kept resident. Synthesis only through `generateAsync`: the synchronous call
 * blocks the event loop and crashes the process on some inputs.
 */
export class SherpaOnnxTtsEngine implements TtsEngine {
  private readonly logger = new Logger('sherpa-onnx');
  private readonly resident = new Map<string, ResidentVoice>();

  constructor(private readonly config: SherpaOnnxTtsConfig) {}

  get modelName(): string {
    return this.config.voices.map((voice) => voice.id).join(',');
  }

  get defaultVoice(): string {
    return this.config.defaultVoice;
  }

  voices(): readonly VoiceInfo[] {
    return [...this.resident.values()].map(({ tts: _tts, ...info }) => info);
  }

  async load(): Promise<void> {
    const dataDir = this.config.espeakNgData;
    if (!dataDir) {
      throw new Error('espeak-ng data not found: install it (apt-get install espeak-ng-data) or set ESPEAK_NG_DATA');
    }
    if (!isEspeakNgDataDir(dataDir)) throw new Error(`ESPEAK_NG_DATA=${dataDir} is not an espeak-ng data directory (no phontab)`);
    // Check every voice before loading any, so a mistake in the last one is reported at once.
    for (const voice of this.config.voices) await checkVoiceFiles(voice.id, voice);
    for (const voice of this.config.voices) {
      const started = performance.now();
      const tts = await withTimeout(
        sherpa.OfflineTts.createAsync({
          model: { vits: { model: voice.model, tokens: voice.tokens, dataDir }, numThreads: this.config.threads, provider: 'cpu' },
          maxNumSentences: SENTENCES_PER_CHUNK,
        }),
        LOAD_TIMEOUT_MS,
        `voice ${voice.id} did not load within ${LOAD_TIMEOUT_MS} ms`,
      );
      const modelSpeakers = Math.max(1, tts.numSpeakers);
      if (voice.speakers !== undefined && voice.speakers > modelSpeakers) {
        throw new Error(`voice ${voice.id}: configured with ${voice.speakers} speakers but the model has ${modelSpeakers}`);
      }
      if (!Number.isInteger(tts.sampleRate) || tts.sampleRate <= 0) {
        throw new Error(`voice ${voice.id}: the model reports an invalid sample rate ${tts.sampleRate}`);
      }
      this.resident.set(voice.id, {
        id: voice.id,
        languages: voice.languages,
        sampleRate: tts.sampleRate,
        speakers: voice.speakers ?? modelSpeakers,
        tts,
      });
      this.logger.log(
        `voice ${voice.id} (${voice.languages.join(', ')}): ${tts.sampleRate} Hz, ${voice.speakers ?? modelSpeakers} speaker(s), ` +
          `${this.config.threads} threads, loaded in ${Math.round(performance.now() - started)} ms`,
      );
      await this.warmUp(voice.id, tts);
    }
  }

  /**
   * One synthesis at load, discarded: ONNX Runtime's first run of a model allocates and plans
   * (about 40× a later run on the generated voice, hundreds of ms on a real one), and the first
   * learner's first sentence should not pay for it. Part of the load, so readiness waits for it;
   * a failure is logged, not fatal (the voice still serves, its first sentence is just slower).
   */
  private async warmUp(voiceId: string, tts: OfflineTts): Promise<void> {
    const started = performance.now();
    try {
      await withTimeout(tts.generateAsync({ text: WARM_UP_TEXT, sid: 0, speed: 1 }), LOAD_TIMEOUT_MS, `the warm-up took over ${LOAD_TIMEOUT_MS} ms`);
      this.logger.log(`voice ${voiceId} warmed up: a first synthesis took ${Math.round(performance.now() - started)} ms`);
    } catch (error) {
      this.logger.warn(`voice ${voiceId}: the warm-up synthesis failed (${error instanceof Error ? error.message : String(error)}); serving anyway`);
    }
  }

  synthesize(request: SynthesisRequest, onAudio: (samples: Float32Array) => void, signal: AbortSignal): Promise<SynthesisResult> {
    const voice = this.resident.get(request.voice);
    if (!voice) return Promise.reject(new ParleyError('INVALID_REQUEST', `voice ${request.voice} is not loaded`));
    // The last line of defence before native code: these inputs crash or hang the process there.
    const problem = unsafeInput(request, voice);
    if (problem) return Promise.reject(new ParleyError('INVALID_REQUEST', problem));
    if (signal.aborted) return Promise.resolve({ sampleRate: voice.sampleRate, samples: 0, stopped: true });

    return new Promise<SynthesisResult>((resolve, reject) => {
      let forwarded = 0;
      let settled = false;
      const settle = (finish: () => void) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        finish();
      };
      // Stop consuming now; the native generator stops when onProgress next returns false.
      let cancelled = false;
      let sentences = 0;
      let sentencesAfterCancel = 0;
      const onAbort = () => {
        cancelled = !settled;
        settle(() => resolve({ sampleRate: voice.sampleRate, samples: forwarded, stopped: true }));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const forward = (samples: Float32Array) => {
        if (!samples.length) return;
        forwarded += samples.length;
        onAudio(samples);
      };

      voice.tts
        .generateAsync({
          text: request.text,
          sid: request.speakerId,
          speed: request.speed,
          onProgress: ({ samples }) => {
            if (cancelled) sentencesAfterCancel++;
            if (settled || signal.aborted) return false;
            try {
              sentences++;
              forward(samples);
              return true;
            } catch (error) {
              settle(() => reject(error));
              return false;
            }
          },
        })
        .finally(() => {
          // Proof that a cancel stops the native generator, not only our reading of it: at most the
          // sentence under way when the cancel came may still arrive (and is dropped).
          if (cancelled) {
            this.logger.log(
              `synthesis cancelled after ${sentences} sentence(s); the engine synthesized ${sentencesAfterCancel} more after the cancel, then stopped`,
            );
          }
        })
        .then(
          (result) => {
            // Chunks concatenate to the result; forward any tail a progress call did not deliver.
            if (!settled && result.samples.length > forwarded) {
              try {
                forward(result.samples.subarray(forwarded));
              } catch (error) {
                settle(() => reject(error));
              }
            }
            settle(() => resolve({ sampleRate: voice.sampleRate, samples: forwarded, stopped: false }));
          },
          (error: unknown) =>
            settle(() => reject(new ParleyError('ENGINE_FAILED', `synthesis failed: ${error instanceof Error ? error.message : String(error)}`))),
        );
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
