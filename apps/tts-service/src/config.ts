import { envInt, usableCpuCount } from '@parley/service-kit';
import { defaultModelsDir, findEspeakNgDataDir, pulledVoices } from '@parley/models';
import type { SherpaOnnxTtsConfig, VoiceConfig } from './engine/sherpa-onnx.engine.js';

export interface TtsServiceConfig {
  engine: SherpaOnnxTtsConfig;
  /** Generations running at once (on all voices together). */
  maxConcurrent: number;
  /** Requests allowed to wait for a free slot before new ones are refused as busy. */
  maxQueued: number;
  /** Ceiling on one generation; past it the generation is abandoned with TIMEOUT. */
  generationTimeoutMs: number;
  /** Ceiling on one request, queueing included, in case a caller's cancel is lost. */
  maxRequestMs: number;
  httpPort: number;
}

const VOICES_EXAMPLE =
  '[{"id":"en_US-lessac-medium","languages":["en"],"model":"/models/en_US-lessac-medium.onnx","tokens":"/models/tokens.txt"}]';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): TtsServiceConfig {
  // Without TTS_VOICES, the voices pulled into the models directory (PARLEY_MODELS_DIR).
  const voices = parseVoices(env.TTS_VOICES ?? pulledVoicesJson(env));
  const defaultVoice = env.TTS_DEFAULT_VOICE || voices[0]!.id;
  if (!voices.some((voice) => voice.id === defaultVoice)) {
    throw new Error(`TTS_DEFAULT_VOICE=${defaultVoice} is not one of the voices in TTS_VOICES (${voices.map((v) => v.id).join(', ')}).`);
  }
  const generationTimeoutMs = envInt('TTS_GENERATION_TIMEOUT_MS', 30_000, { min: 100 }, env);
  const maxConcurrent = envInt('TTS_MAX_CONCURRENT', 2, { max: 64 }, env);
  return {
    engine: {
      voices,
      defaultVoice,
      // Undefined when none is installed: the load then fails with a message saying so.
      // An explicit ESPEAK_NG_DATA is used as given (a wrong one fails the load, saying so).
      espeakNgData: env.ESPEAK_NG_DATA || findEspeakNgDataDir(env),
      // Generations run side by side: split the CPUs between them rather than oversubscribe.
      threads: envInt('TTS_THREADS', Math.max(1, Math.floor(usableCpuCount() / maxConcurrent)), { max: 256 }, env),
    },
    maxConcurrent,
    maxQueued: envInt('TTS_MAX_QUEUED', 16, { min: 0 }, env),
    generationTimeoutMs,
    maxRequestMs: envInt('TTS_MAX_REQUEST_MS', Math.max(120_000, 2 * generationTimeoutMs), { min: generationTimeoutMs }, env),
    httpPort: envInt('TTS_HTTP_PORT', 9103, { min: 0, max: 65535 }, env),
  };
}

function pulledVoicesJson(env: NodeJS.ProcessEnv): string | undefined {
  const voices = pulledVoices(defaultModelsDir(env));
  return voices.length ? JSON.stringify(voices) : undefined;
}

/** Parses and checks `TTS_VOICES` (a JSON array); a mistake fails start-up with what to fix. */
export function parseVoices(raw: string | undefined): VoiceConfig[] {
  if (!raw) {
    throw new Error(
      `TTS_VOICES is not set and no voice is pulled (npm run models -- pull tts): set it to a JSON array of voices, e.g. ${VOICES_EXAMPLE}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new Error(`TTS_VOICES is not valid JSON (${(error as Error).message}); expected e.g. ${VOICES_EXAMPLE}`, { cause: error });
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new Error(`TTS_VOICES must be a non-empty JSON array of voices, e.g. ${VOICES_EXAMPLE}`);
  }
  const ids = new Set<string>();
  return parsed.map((item: unknown, index): VoiceConfig => {
    const where = `TTS_VOICES[${index}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new Error(`${where} must be an object`);
    const voice = item as Record<string, unknown>;
    const text = (field: string): string => {
      const value = voice[field];
      if (typeof value !== 'string' || !value.trim()) throw new Error(`${where}.${field} must be a non-empty string`);
      return value;
    };
    const id = text('id');
    if (!/^[\w.-]{1,100}$/.test(id)) throw new Error(`${where}.id must be 1-100 characters of letters, digits, _ . or -`);
    if (ids.has(id)) throw new Error(`${where}.id ${id} appears twice`);
    ids.add(id);
    const languages = voice.languages;
    if (!Array.isArray(languages) || !languages.every((l) => typeof l === 'string' && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$/.test(l))) {
      throw new Error(`${where}.languages must be an array of language codes such as ["en"]`);
    }
    const speakers = voice.speakers;
    if (speakers !== undefined && (!Number.isInteger(speakers) || (speakers as number) < 1)) {
      throw new Error(`${where}.speakers must be a positive integer`);
    }
    return {
      id,
      languages: languages.map((l: string) => l.toLowerCase()),
      model: text('model'),
      tokens: text('tokens'),
      ...(speakers !== undefined ? { speakers: speakers as number } : {}),
    };
  });
}
