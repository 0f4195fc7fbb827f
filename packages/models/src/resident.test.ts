import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveModel } from './paths.js';
import { pulledModelPath, pulledVoices } from './resident.js';

/** Puts empty stand-ins for every file of a model where `models pull` would. */
async function fakePull(modelsDir: string, role: 'llm' | 'stt' | 'tts', id?: string) {
  const resolved = resolveModel(role, id, modelsDir);
  await mkdir(resolved.dir, { recursive: true });
  const files = [...resolved.entry.files.map((f) => join(resolved.dir, f.name)), resolved.path, resolved.tokens].filter(Boolean);
  for (const file of files) await writeFile(file as string, '');
}

describe('what a service loads when its model variable is not set', () => {
  let modelsDir: string;
  beforeEach(async () => (modelsDir = await mkdtemp(join(tmpdir(), 'parley-models-'))));
  afterEach(() => rm(modelsDir, { recursive: true, force: true }));

  it('lists each pulled voice once, with every language it speaks', async () => {
    await fakePull(modelsDir, 'tts', 'es_ES-davefx-medium');
    await fakePull(modelsDir, 'tts', 'en_US-lessac-medium');
    const voices = pulledVoices(modelsDir);
    expect(voices.map((v) => v.id).sort()).toEqual(['en_US-lessac-medium', 'es_ES-davefx-medium']);
    expect(voices.find((v) => v.id === 'es_ES-davefx-medium')).toEqual({
      id: 'es_ES-davefx-medium',
      languages: ['es'],
      model: join(modelsDir, 'tts', 'es_ES-davefx-medium', 'es_ES-davefx-medium.sherpa.onnx'),
      tokens: join(modelsDir, 'tts', 'es_ES-davefx-medium', 'tokens.txt'),
    });
  });

  it('finds no voice in an empty models directory', () => {
    expect(pulledVoices(modelsDir)).toEqual([]);
  });

  it('gives the pulled default model, or says how to pull one', async () => {
    expect(() => pulledModelPath('llm', 'LLM_MODEL_PATH', modelsDir)).toThrow(/LLM_MODEL_PATH is not set.*npm run models -- pull llm/);
    await fakePull(modelsDir, 'llm');
    expect(pulledModelPath('llm', 'LLM_MODEL_PATH', modelsDir)).toBe(resolveModel('llm', undefined, modelsDir).path);
  });
});
