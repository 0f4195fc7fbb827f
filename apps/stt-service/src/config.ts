import { defaultModelsDir, pulledModelPath } from '@parley/models';
import { envInt, usableCpuCount } from '@parley/service-kit';
import type { WhisperServerEngineConfig } from './engine/whisper-server.engine.js';

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
  };
}
