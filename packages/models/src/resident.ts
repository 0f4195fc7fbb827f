import { defaultModelsDir, resolveModel } from './paths.js';
import { VOICE_BY_LANGUAGE, type Role } from './manifest.js';

/** A voice as the tts-service's TTS_VOICES lists it. */
export interface PulledVoice {
  id: string;
  languages: string[];
  model: string;
  tokens: string;
}

/**
 * The pulled Piper voices, each with the languages it speaks: what the tts-service loads when
 * TTS_VOICES is not set (so a deployment only mounts the models directory).
 */
export function pulledVoices(modelsDir: string = defaultModelsDir()): PulledVoice[] {
  const byId = new Map<string, PulledVoice>();
  for (const [language, choice] of Object.entries(VOICE_BY_LANGUAGE)) {
    if (choice.kind !== 'voice') continue;
    const resolved = resolveModel('tts', choice.voice, modelsDir);
    if (!resolved.present || !resolved.tokens) continue;
    const voice = byId.get(choice.voice) ?? { id: choice.voice, languages: [], model: resolved.path, tokens: resolved.tokens };
    voice.languages.push(language);
    byId.set(choice.voice, voice);
  }
  return [...byId.values()];
}

/**
 * The default model of a role if it has been pulled (what a service loads when its model path
 * variable is not set), or an error that says how to get one.
 */
export function pulledModelPath(role: Exclude<Role, 'tts'>, variable: string, modelsDir: string = defaultModelsDir()): string {
  const resolved = resolveModel(role, undefined, modelsDir);
  if (!resolved.present) {
    throw new Error(
      `${variable} is not set and the default ${role} model (${resolved.entry.id}) is not in ${modelsDir}: ` +
        `run \`npm run models -- pull ${role}\`, or set ${variable} to a model file.`,
    );
  }
  return resolved.path;
}
