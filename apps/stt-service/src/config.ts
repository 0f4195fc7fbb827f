import { defaultModelsDir, pulledModelPath } from '@parley/models';
import { envInt, usableCpuCount } from '@parley/service-kit';
import type { WhisperServerEngineConfig } from './engine/whisper-server.engine.js';
import type { VadSettings } from './vad/voice-activity-detector.port.js';

export interface LiveConfig {
  /** Live streams one replica owns at most; beyond, SERVICE_BUSY (another replica takes it on retry). */
  maxStreams: number;
  /** At most one partial transcription per this much new audio (ms of audio). */
  partialIntervalMs: number;
  /** A reply at least this often while a stream is open. */
  heartbeatMs: number;
  /** A stream with no frame (audio or keepalive) for this long is ended with TIMEOUT. */
  idleTimeoutMs: number;
  /** Hard ceiling on one stream's life (in case a cancel is lost). */
  maxStreamMs: number;
  /** An utterance is ended and transcribed at this length even if speech goes on. */
  maxUtteranceMs: number;
  /** A larger gap in the caller's clock is refused rather than filled with silence. */
  maxGapMs: number;
  vad: VadSettings & {
    /** STT_VAD_MODEL_PATH, or the silero_vad_v5.onnx inside @ricky0123/vad-web. */
    modelPath: string | undefined;
    /** Detectors created at start-up (each load takes ~150 ms on the event loop). */
    warm: number;
    /** Released detectors kept for the next streams (~17 MB each). */
    maxIdle: number;
  };
}

export interface SttServiceConfig {
  engine: WhisperServerEngineConfig;
  /** Requests allowed to wait for a free whisper-server before new ones are refused as busy. */
  maxQueued: number;
  /** Longest audio accepted, in seconds (after decoding). */
  maxAudioSeconds: number;
  /** Largest upload read from the object store, in bytes. */
  maxAudioBytes: number;
  /** Loudest 30 ms window quieter than this (dBFS RMS) → NO_SPEECH without calling whisper. */
  silenceThresholdDbfs: number;
  /** ffmpeg for WebM/Ogg/MP3/M4A... (FFMPEG_BIN); probed at start-up, PCM WAV works without it. */
  ffmpegPath: string;
  /** Hard ceiling on one request (queueing + decoding + inference), in case a cancel is lost. */
  maxRequestMs: number;
  httpPort: number;
  live: LiveConfig;
}

function envNumber(name: string, fallback: number, env: NodeJS.ProcessEnv): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`Environment variable ${name}=${raw} must be a number.`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): SttServiceConfig {
  // Without STT_MODEL_PATH, the default model pulled into the models directory.
  const modelPath = env.STT_MODEL_PATH || pulledModelPath('stt', 'STT_MODEL_PATH', defaultModelsDir(env));
  const servers = envInt('STT_SERVERS', 1, { max: 64 }, env);
  const requestTimeoutMs = envInt('STT_REQUEST_TIMEOUT_MS', 60_000, { min: 100 }, env);
  return {
    engine: {
      modelPath,
      serverBinary: env.WHISPER_SERVER_BIN || undefined,
      servers,
      // Children share the CPUs: oversubscription slows native inference by orders of magnitude.
      threads: envInt('STT_THREADS', Math.max(1, Math.floor(usableCpuCount() / servers)), { max: 256 }, env),
      requestTimeoutMs,
      startTimeoutMs: envInt('STT_START_TIMEOUT_MS', 120_000, { min: 1000 }, env),
      languageProbabilities: env.STT_LANGUAGE_PROBABILITY !== 'false',
    },
    maxQueued: envInt('STT_MAX_QUEUED', 16, { min: 0 }, env),
    maxAudioSeconds: envInt('STT_MAX_AUDIO_SECONDS', 120, { max: 3600 }, env),
    maxAudioBytes: envInt('STT_MAX_AUDIO_BYTES', 50 * 1024 * 1024, { min: 1024 }, env),
    silenceThresholdDbfs: envNumber('STT_SILENCE_DBFS', -50, env),
    ffmpegPath: env.FFMPEG_BIN || 'ffmpeg',
    maxRequestMs: envInt('STT_MAX_REQUEST_MS', requestTimeoutMs + 60_000, { min: 100 }, env),
    httpPort: envInt('STT_HTTP_PORT', 9102, { min: 0, max: 65535 }, env),
    live: loadLiveConfig(env),
  };
}

function loadLiveConfig(env: NodeJS.ProcessEnv): LiveConfig {
  const threshold = envNumber('STT_VAD_THRESHOLD', 0.5, env);
  if (threshold <= 0 || threshold >= 1) throw new Error(`STT_VAD_THRESHOLD=${threshold} must be between 0 and 1 (a speech probability)`);
  const maxSpeechMs = envInt('STT_VAD_MAX_SPEECH_MS', 20_000, { min: 1000, max: 120_000 }, env);
  return {
    maxStreams: envInt('STT_LIVE_MAX_STREAMS', 64, { min: 1, max: 10_000 }, env),
    partialIntervalMs: envInt('STT_LIVE_PARTIAL_INTERVAL_MS', 500, { min: 100, max: 60_000 }, env),
    heartbeatMs: envInt('STT_LIVE_HEARTBEAT_MS', 1000, { min: 50, max: 60_000 }, env),
    idleTimeoutMs: envInt('STT_LIVE_IDLE_TIMEOUT_MS', 30_000, { min: 1000 }, env),
    maxStreamMs: envInt('STT_LIVE_MAX_STREAM_MS', 6 * 3600_000, { min: 1000 }, env),
    maxUtteranceMs: maxSpeechMs + 5000,
    maxGapMs: 10_000,
    vad: {
      modelPath: env.STT_VAD_MODEL_PATH || undefined,
      threshold,
      minSpeechMs: envInt('STT_VAD_MIN_SPEECH_MS', 250, { min: 32, max: 10_000 }, env),
      minSilenceMs: envInt('STT_VAD_MIN_SILENCE_MS', 500, { min: 32, max: 10_000 }, env),
      maxSpeechMs,
      warm: envInt('STT_VAD_WARM', 2, { min: 0, max: 256 }, env),
      maxIdle: envInt('STT_VAD_MAX_IDLE', 16, { min: 0, max: 10_000 }, env),
    },
  };
}
