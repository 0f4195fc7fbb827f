import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { ParleyError } from '@parley/contracts';
import { encodeWav16, WHISPER_SAMPLE_RATE } from '../audio/index.js';
import { chooseCandidate, languageCode } from './languages.js';
import type { EngineEvent, EngineTranscript, SttEngine, TranscriptionInput, TranscriptSegment } from './stt-engine.port.js';
import { resolveWhisperServerBinary } from './whisper-binary.js';
import { ConnectionFailure, WhisperServerProcess, type InferenceResponse } from './whisper-server.process.js';

export interface WhisperServerEngineConfig {
  modelPath: string;
  /** WHISPER_SERVER_BIN; undefined → the project's build (built on first start if missing). */
  serverBinary: string | undefined;
  /** whisper-server children; each serves one request at a time. */
  servers: number;
  /** Threads per child. */
  threads: number;
  /** Budget for one transcription: waiting for a (restarting) child plus inference. */
  requestTimeoutMs: number;
  /** How long a child may take to load the model. */
  startTimeoutMs: number;
  /** With `auto`, ask whisper-server for the detected language's probability (one extra encoder pass). */
  languageProbabilities: boolean;
}

interface VerboseJson {
  text?: string;
  language?: string;
  duration?: number;
  segments?: Array<{ text?: string; start?: number; end?: number }>;
  detected_language?: string;
  detected_language_probability?: number;
  language_probabilities?: Record<string, number>;
}

/**
 * whisper-server options persist from one request into the next one on the same child, so every
 * request sends every option, with whisper's defaults where Parley has no opinion.
 */
/** A probability from whisper's JSON, clamped to [0, 1]; null when it is not a number. */
function asProbability(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : null;
}

function requestFields(language: string, withProbabilities: boolean): Record<string, string> {
  return {
    response_format: 'verbose_json',
    language,
    detect_language: 'false', // true would only detect the language, not transcribe
    no_language_probabilities: withProbabilities ? 'false' : 'true',
    translate: 'false',
    no_timestamps: 'false',
    token_timestamps: 'false',
    temperature: '0',
    temperature_inc: '0.2',
    best_of: '2',
    beam_size: '-1',
    offset_t: '0',
    offset_n: '0',
    duration: '0',
    max_context: '-1',
    max_len: '0',
    audio_ctx: '0',
    word_thold: '0.01',
    entropy_thold: '2.4',
    logprob_thold: '-1',
    no_speech_thold: '0.6',
    split_on_word: 'false',
    diarize: 'false',
    tinydiarize: 'false',
    debug_mode: 'false',
    prompt: '',
    carry_initial_prompt: 'false',
    suppress_nst: 'false',
    vad: 'false',
  };
}

const WARM_UP_SECONDS = 0.5;
/** The warm-up's audio: a quiet 440 Hz tone (content is irrelevant; the inference's first run is what matters). */
const WARM_UP_SAMPLES = Float32Array.from({ length: WARM_UP_SECONDS * WHISPER_SAMPLE_RATE }, (_, i) => 0.1 * Math.sin((2 * Math.PI * 440 * i) / WHISPER_SAMPLE_RATE));

/**
 * The STT engine on whisper.cpp's whisper-server: N resident children (each loads the model once
 * and serves one request at a time), supervised and restarted if they die.
 */
export class WhisperServerEngine implements SttEngine, OnApplicationShutdown {
  private readonly logger = new Logger('whisper-server');
  private workers: WhisperServerProcess[] = [];
  private readonly idleWaiters: Array<(worker: WhisperServerProcess) => void> = [];
  private readonly listeners: Array<(event: EngineEvent) => void> = [];
  private readonly killAll = () => this.workers.forEach((w) => w.killNow());

  constructor(private readonly config: WhisperServerEngineConfig) {}

  get modelName(): string {
    return basename(this.config.modelPath);
  }

  get unavailableWorkers(): number {
    return this.workers.filter((w) => !w.isReady).length;
  }

  /** Pids of the children (for diagnostics). */
  get pids(): number[] {
    return this.workers.map((w) => w.pid ?? 0);
  }

  onEvent(listener: (event: EngineEvent) => void): void {
    this.listeners.push(listener);
  }

  async load(): Promise<void> {
    if (!existsSync(this.config.modelPath)) {
      throw new Error(`model file not found: ${this.config.modelPath} (run \`npm run models -- pull stt\`)`);
    }
    const binary = await resolveWhisperServerBinary(this.config.serverBinary, this.logger);
    this.workers = Array.from(
      { length: this.config.servers },
      (_, index) =>
        new WhisperServerProcess({
          index,
          binary,
          modelPath: this.config.modelPath,
          threads: this.config.threads,
          startTimeoutMs: this.config.startTimeoutMs,
          onReady: ({ pid, loadMs, reload }) => this.emit({ type: 'model-loaded', worker: index, pid, loadMs, reload }),
          onExit: ({ pid, reason }) => this.emit({ type: 'worker-exited', worker: index, pid, reason }),
          onRestartScheduled: ({ attempt, delayMs }) => this.emit({ type: 'worker-restarting', worker: index, attempt, delayMs }),
        }),
    );
    process.once('exit', this.killAll);
    try {
      await Promise.all(this.workers.map((w) => w.start()));
    } catch (error) {
      await Promise.all(this.workers.map((w) => w.stop()));
      throw error;
    }
    // Part of the load: the service says it is loaded (ready) only once every child is warm.
    await Promise.all(this.workers.map((worker, index) => this.warmUp(worker, index)));
  }

  /**
   * A child's first inference allocates whisper's compute buffers and pages the model in, which
   * makes it several times slower than the next ones: one tiny transcription (half a second of
   * a quiet tone) per child at load, so the first learner does not pay that cold start. A failed
   * warm-up is logged, not fatal: the child still serves (the first request is just slower).
   */
  private async warmUp(worker: WhisperServerProcess, index: number): Promise<void> {
    const started = performance.now();
    worker.busy = true;
    try {
      await this.infer(worker, WARM_UP_SAMPLES, 'en', false, new AbortController().signal, Date.now() + this.config.requestTimeoutMs);
      this.logger.log(`whisper-server #${index} warmed up: a first transcription of ${WARM_UP_SECONDS} s took ${Math.round(performance.now() - started)} ms`);
    } catch (error) {
      this.logger.warn(`whisper-server #${index} warm-up failed (${String(error)}); its first request will pay the cold start`);
    } finally {
      this.release(worker);
    }
  }

  async transcribe(input: TranscriptionInput, signal: AbortSignal): Promise<EngineTranscript> {
    if (this.workers.length === 0) throw new ParleyError('MODEL_NOT_LOADED', 'the speech recogniser is not started');
    const deadline = Date.now() + this.config.requestTimeoutMs;
    const candidates = input.language === 'auto' ? input.candidates : undefined;
    const worker = await this.acquire(signal, deadline);
    try {
      // Among candidates, whisper's probabilities are needed whatever the configuration says.
      const withProbabilities = input.language === 'auto' && (this.config.languageProbabilities || candidates !== undefined);
      const { probabilities, ...transcript } = await this.infer(worker, input.samples, input.language, withProbabilities, signal, deadline);
      if (!candidates) return transcript;
      const chosen = chooseCandidate(candidates, { language: transcript.language, probabilities });
      const languageProbability = asProbability(probabilities?.[chosen]);
      if (transcript.language === chosen) return { ...transcript, languageProbability };
      // whisper transcribed in a language the learner is not using: again, in the likelier candidate.
      const { probabilities: _none, ...again } = await this.infer(worker, input.samples, chosen, false, signal, deadline);
      return { ...again, languageProbability };
    } finally {
      this.release(worker);
    }
  }

  /** One whisper-server request on `worker`, retried once if the child died under it. */
  private async infer(
    worker: WhisperServerProcess,
    samples: Float32Array,
    language: string,
    withProbabilities: boolean,
    signal: AbortSignal,
    deadline: number,
  ): Promise<EngineTranscript & { probabilities?: Record<string, number> }> {
    const form = new FormData();
    form.append('file', new Blob([encodeWav16(samples, WHISPER_SAMPLE_RATE)], { type: 'audio/wav' }), 'audio.wav');
    for (const [key, value] of Object.entries(requestFields(language, withProbabilities))) form.append(key, value);
    // Node's fetch machinery encodes the multipart body; it is sent on a fresh connection below.
    const encoded = new Response(form);
    const body = new Uint8Array(await encoded.arrayBuffer());
    const contentType = encoded.headers.get('content-type')!;
    for (let attempt = 1; ; attempt++) {
      await worker.whenReady(signal, deadline);
      try {
        const response = await worker.infer(body, contentType, signal, deadline);
        return this.parse(response, samples.length / WHISPER_SAMPLE_RATE, language);
      } catch (error) {
        if (!(error instanceof ConnectionFailure)) throw error;
        if (attempt >= 2 || signal.aborted) {
          throw new ParleyError('ENGINE_FAILED', `whisper-server failed during the request: ${error.message}`);
        }
        // The child probably died under this request: wait for its restart, then retry once.
        this.logger.warn(`lost the connection to whisper-server (${error.message}); retrying once after its restart`);
        await worker.settleAfterFailure();
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    process.off('exit', this.killAll);
    this.logger.log(`stopping ${this.workers.length} whisper-server child(ren)`);
    await Promise.all(this.workers.map((w) => w.stop()));
  }

  private parse(response: InferenceResponse, duration: number, requested: string): EngineTranscript & { probabilities?: Record<string, number> } {
    if (response.status !== 200) {
      throw new ParleyError('ENGINE_FAILED', `whisper-server answered ${response.status}: ${response.body.slice(0, 300)}`);
    }
    let json: VerboseJson;
    try {
      json = JSON.parse(response.body) as VerboseJson;
    } catch {
      throw new ParleyError('ENGINE_FAILED', `whisper-server sent something that is not JSON: ${response.body.slice(0, 200)}`);
    }
    // The server's segment times can run past the audio (a whole 30 s window): clamp them.
    const clamp = (t: unknown) => Math.min(duration, Math.max(0, typeof t === 'number' && Number.isFinite(t) ? t : 0));
    const segments: TranscriptSegment[] = (json.segments ?? [])
      .map((s) => {
        const start = clamp(s.start);
        return { start: round3(start), end: round3(Math.max(start, clamp(s.end))), text: (s.text ?? '').trim() };
      })
      .filter((s) => s.text.length > 0);
    const auto = requested === 'auto';
    const language = auto ? (languageCode(json.language) ?? languageCode(json.detected_language) ?? 'und') : requested;
    const probability = auto ? json.detected_language_probability : undefined;
    return {
      text: (json.text ?? segments.map((s) => s.text).join(' ')).trim(),
      language,
      languageProbability: asProbability(probability),
      segments,
      ...(json.language_probabilities ? { probabilities: json.language_probabilities } : {}),
    };
  }

  private acquire(signal: AbortSignal, deadline: number): Promise<WhisperServerProcess> {
    const idle = this.workers.filter((w) => !w.busy);
    const worker = idle.find((w) => w.isReady) ?? idle[0];
    if (worker) {
      worker.busy = true;
      return Promise.resolve(worker);
    }
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const index = this.idleWaiters.indexOf(take);
        if (index >= 0) this.idleWaiters.splice(index, 1);
      };
      const take = (w: WhisperServerProcess) => {
        cleanup();
        resolve(w);
      };
      const onAbort = () => {
        cleanup();
        reject(new ParleyError('CANCELLED', 'cancelled while waiting for the speech recogniser'));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new ParleyError('TIMEOUT', 'no speech recogniser became free in time'));
      }, Math.max(0, deadline - Date.now()));
      signal.addEventListener('abort', onAbort, { once: true });
      this.idleWaiters.push(take);
    });
  }

  private release(worker: WhisperServerProcess): void {
    const next = this.idleWaiters.shift();
    if (next) next(worker);
    else worker.busy = false;
  }

  private emit(event: EngineEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
