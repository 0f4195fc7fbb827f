// Where models and test fixtures live, and how a role/id resolves to files on disk.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { defaultModelId, findModel, isRole, type ModelEntry, type Role } from './manifest.js';

/** Nearest ancestor of `from` whose package.json declares npm workspaces; `from` itself if none. */
export function findRepoRoot(from: string = process.cwd()): string {
  let dir = resolve(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).workspaces) return dir;
      } catch {
        /* unreadable package.json: keep walking */
      }
    }
    const up = dirname(dir);
    if (up === dir) return resolve(from);
    dir = up;
  }
}

/** `$PARLEY_MODELS_DIR`, else `<repo root>/models`. */
export function defaultModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PARLEY_MODELS_DIR ? resolve(env.PARLEY_MODELS_DIR) : join(findRepoRoot(), 'models');
}

/** `$PARLEY_FIXTURES_DIR`, else `<repo root>/.fixtures`. */
export function fixturesDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PARLEY_FIXTURES_DIR ? resolve(env.PARLEY_FIXTURES_DIR) : join(findRepoRoot(), '.fixtures');
}

/** Where `models fixtures` writes each tiny test model inside the fixtures dir. */
export function fixturePaths(dir: string = fixturesDir()) {
  return {
    gguf: join(dir, 'tiny.gguf'),
    whisper: join(dir, 'tiny-whisper.bin'),
    piperDir: join(dir, 'piper'),
  };
}

export function modelDir(entry: Pick<ModelEntry, 'role' | 'id'>, modelsDir: string = defaultModelsDir()): string {
  return join(modelsDir, entry.role, entry.id);
}

export class UnknownModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownModelError';
  }
}

export function getEntry(role: Role, id?: string): ModelEntry {
  const wanted = id ?? defaultModelId(role);
  const entry = findModel(wanted);
  if (!entry) throw new UnknownModelError(`unknown model id "${wanted}" (see \`models list\`)`);
  if (entry.role !== role) throw new UnknownModelError(`model "${wanted}" is a ${entry.role} model, not ${role}`);
  return entry;
}

export interface ResolvedModel {
  entry: ModelEntry;
  dir: string;
  /** The file an engine loads: the GGUF, the ggml .bin, or (TTS) the sherpa-ready ONNX. */
  path: string;
  /** TTS only: tokens.txt generated from the voice's phoneme_id_map. */
  tokens?: string;
  /** TTS only: the Piper .onnx.json config. */
  config?: string;
  /** Every file is present on disk. */
  present: boolean;
}

export function resolveModel(role: Role, id?: string, modelsDir: string = defaultModelsDir()): ResolvedModel {
  if (!isRole(role)) throw new UnknownModelError(`unknown role "${String(role)}" (expected llm, stt or tts)`);
  const entry = getEntry(role, id);
  const dir = modelDir(entry, modelsDir);
  const files = entry.files.map((f) => join(dir, f.name));
  if (entry.postProcess === 'piper-sherpa') {
    const path = join(dir, `${entry.id}.sherpa.onnx`);
    const tokens = join(dir, 'tokens.txt');
    const config = join(dir, `${entry.id}.onnx.json`);
    const present = [...files, path, tokens].every((f) => existsSync(f));
    return { entry, dir, path, tokens, config, present };
  }
  const path = files[0]!;
  return { entry, dir, path, present: files.every((f) => existsSync(f)) };
}

/** Path of the model file for a role (default model unless `id` is given). */
export function resolveModelPath(role: Role, id?: string, modelsDir?: string): string {
  return resolveModel(role, id, modelsDir).path;
}
