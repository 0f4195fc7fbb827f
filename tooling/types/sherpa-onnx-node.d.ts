// Ambient types for the parts of sherpa-onnx-node (1.13.x, CommonJS, JSDoc only)
// that Parley uses (TTS, voice activity detection). Checked against node_modules/sherpa-onnx-node/
// {sherpa-onnx.js, non-streaming-tts.js, vad.js, addon.js, types.js}.
//
// ESM usage: `import sherpa from 'sherpa-onnx-node'` (default import of the CJS
// exports object; needs esModuleInterop) or createRequire(import.meta.url).
//
// Process-killing inputs (cannot be caught in JS; validate before calling):
// sync generate() with a negative speed, a model without `sample_rate` metadata,
// a vits config with neither dataDir nor lexicon, malformed model with the sync
// constructor, tokens.txt without `^`/`_`/`$`.
declare module 'sherpa-onnx-node' {
  export interface WaveObject {
    /** Mono samples in [-1, 1]. */
    samples: Float32Array;
    /** Integer sample rate in Hz. */
    sampleRate: number;
  }

  export interface OfflineTtsVitsModelConfig {
    model?: string;
    tokens?: string;
    lexicon?: string;
    /** espeak-ng data directory (Piper voices); e.g. /usr/lib/x86_64-linux-gnu/espeak-ng-data. */
    dataDir?: string;
    /** Default 0.667. */
    noiseScale?: number;
    /** Default 0.8. */
    noiseScaleW?: number;
    /** Default 1. Overridden by 1/speed when a request's speed != 1. */
    lengthScale?: number;
  }

  export interface OfflineTtsModelConfig {
    vits?: OfflineTtsVitsModelConfig;
    /** Other families (matcha, kokoro, kitten, zipvoice, pocket) exist; typed loosely. */
    matcha?: Record<string, string | number>;
    kokoro?: Record<string, string | number>;
    kitten?: Record<string, string | number>;
    numThreads?: number;
    debug?: boolean | number;
    /** 'cpu' (default), 'cuda', 'coreml', ... */
    provider?: string;
  }

  export interface OfflineTtsConfig {
    model: OfflineTtsModelConfig;
    /** Sentences per model run / per onProgress call. <= 0 means all at once. */
    maxNumSentences?: number;
    /** Shortens pauses (>= 0.2 s runs with |x| <= 0.01) to this fraction. Default 0.2. */
    silenceScale?: number;
    ruleFsts?: string;
    ruleFars?: string;
  }

  export interface GenerationConfigOptions {
    silenceScale?: number;
    speed?: number;
    sid?: number;
    numSteps?: number;
    referenceAudio?: Float32Array;
    referenceSampleRate?: number;
    referenceText?: string;
    extra?: Record<string, number | string>;
  }

  export class GenerationConfig {
    constructor(opts?: GenerationConfigOptions);
    [key: string]: unknown;
  }

  export interface TtsRequest {
    text: string;
    /** Speaker id (integer); ignored (with a log line) for single-speaker models. */
    sid: number;
    /** 1 = model default; length_scale becomes 1/speed. Keep it finite and > 0. */
    speed: number;
    /** Default true: samples may alias native memory. */
    enableExternalBuffer?: boolean;
    generationConfig?: GenerationConfig | GenerationConfigOptions;
  }

  export interface TtsProgress {
    /** Audio of the batch just synthesized (maxNumSentences sentences). Copy it if kept. */
    samples: Float32Array;
    /** Fraction of batches done, in (0, 1]. */
    progress: number;
  }

  export interface AsyncTtsRequest extends TtsRequest {
    /**
     * Called once per batch of `maxNumSentences` sentences. Returning `false` or `0`
     * asks the generator to stop (the batch already in flight still completes);
     * anything else (including undefined) continues.
     */
    onProgress?: (info: TtsProgress) => boolean | number | void;
  }

  export interface GeneratedAudio {
    samples: Float32Array;
    sampleRate: number;
  }

  export class OfflineTts {
    /** Loads synchronously (blocks the event loop). */
    constructor(config: OfflineTtsConfig);
    /** Loads on a worker thread. */
    static createAsync(config: OfflineTtsConfig): Promise<OfflineTts>;
    readonly config: OfflineTtsConfig;
    readonly sampleRate: number;
    readonly numSpeakers: number;
    /** Synchronous: blocks the event loop for the whole synthesis. */
    generate(request: TtsRequest): GeneratedAudio;
    /** Runs off the event loop; onProgress is delivered on the JS thread. */
    generateAsync(request: AsyncTtsRequest): Promise<GeneratedAudio>;
  }

  /** Throws if the file is missing or not a readable WAV. */
  export function readWave(filename: string, enableExternalBuffer?: boolean): WaveObject;
  /** Writes 16-bit PCM mono WAV; returns true on success. */
  export function writeWave(filename: string, wave: WaveObject): boolean;

  export interface SileroVadModelConfig {
    /** silero_vad_v5.onnx (window 512 at 16 kHz; sherpa-onnx adds a 64-sample context). */
    model: string;
    /** Speech probability above which a window is speech; default 0.5. */
    threshold?: number;
    /** Seconds of speech before a segment starts; default 0.25. */
    minSpeechDuration?: number;
    /** Seconds of silence that end a segment; default 0.5. */
    minSilenceDuration?: number;
    /** Samples per model window; 512 for v5 at 16 kHz. */
    windowSize?: number;
    /** Past this many seconds the threshold rises to 0.9 and min silence drops to 0.1 s; default 20. */
    maxSpeechDuration?: number;
  }

  export interface VadConfig {
    sileroVad: SileroVadModelConfig;
    /** Must be 16000 for Silero (any other value exits the process). */
    sampleRate: number;
    numThreads?: number;
    provider?: string;
    debug?: boolean | number;
  }

  export interface SpeechSegment {
    /** First sample, counted from the detector's creation or last reset. */
    start: number;
    samples: Float32Array;
  }

  /** Silero voice activity detection (per instance state: one per audio stream). */
  export class Vad {
    /** Loads the model synchronously (~150 ms, ~17 MB for v5). */
    constructor(config: VadConfig, bufferSizeInSeconds: number);
    acceptWaveform(samples: Float32Array): void;
    isEmpty(): boolean;
    /** True while a segment is open (speech started and not yet ended). */
    isDetected(): boolean;
    front(enableExternalBuffer?: boolean): SpeechSegment;
    pop(): void;
    clear(): void;
    /** Forget everything: sample indices start again at 0. */
    reset(): void;
    /** Close the open segment (if any) at the audio received so far. */
    flush(): void;
  }

  export const version: string;
  export const gitSha1: string;
  export const gitDate: string;
  export const onnxruntimeVersion: string;

  const sherpa: {
    OfflineTts: typeof OfflineTts;
    Vad: typeof Vad;
    GenerationConfig: typeof GenerationConfig;
    readWave: typeof readWave;
    writeWave: typeof writeWave;
    version: string;
    gitSha1: string;
    gitDate: string;
    onnxruntimeVersion: string;
  };
  export default sherpa;
}
