import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findEspeakNgDataDir, writeTinyPiperVoice } from './fixtures/piper.js';
import { encodeMetadataProps, phonemeIdMapToTokens, preparePiperForSherpa, sherpaMetadata } from './piper.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-piper-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const config = {
  audio: { sample_rate: 22050 },
  espeak: { voice: 'es' },
  language: { code: 'es_ES', name_english: 'Spanish' },
  num_speakers: 1,
  phoneme_id_map: { _: [0], '^': [1], $: [2], ' ': [3], a: [14], 'ɲ': [59, 60] },
};

describe('Piper post-download step', () => {
  test('turns phoneme_id_map into sherpa-onnx tokens.txt lines "symbol id" (first id of each entry)', () => {
    expect(phonemeIdMapToTokens(config.phoneme_id_map)).toBe('_ 0\n^ 1\n$ 2\n  3\na 14\nɲ 59\n');
  });

  test('rejects an empty or malformed phoneme_id_map', () => {
    expect(() => phonemeIdMapToTokens({})).toThrow(/empty/);
    expect(() => phonemeIdMapToTokens({ a: [] })).toThrow(/no valid id/);
    expect(() => phonemeIdMapToTokens({ '\n': [4] })).toThrow(/line break/);
  });

  test('derives the metadata sherpa-onnx requires from the voice config', () => {
    expect(sherpaMetadata(config)).toMatchObject({
      comment: 'piper',
      sample_rate: '22050',
      n_speakers: '1',
      language: 'Spanish',
      voice: 'es',
      has_espeak: '1',
    });
    expect(() => sherpaMetadata({})).toThrow(/sample_rate/);
  });

  test('writes tokens.txt and a sherpa model that is the untouched original plus metadata_props', async () => {
    const original = randomBytes(4096);
    await writeFile(join(dir, 'v.onnx'), original);
    await writeFile(join(dir, 'v.onnx.json'), JSON.stringify(config));
    const out = await preparePiperForSherpa({
      onnx: join(dir, 'v.onnx'),
      config: join(dir, 'v.onnx.json'),
      tokensOut: join(dir, 'tokens.txt'),
      modelOut: join(dir, 'v.sherpa.onnx'),
    });
    expect(out.sampleRate).toBe(22050);
    expect(await readFile(out.tokens, 'utf8')).toBe(phonemeIdMapToTokens(config.phoneme_id_map));
    const model = await readFile(out.model);
    expect(model.subarray(0, original.length).equals(original)).toBe(true);
    expect(model.subarray(original.length).equals(encodeMetadataProps(sherpaMetadata(config)))).toBe(true);
    // The original is still byte-identical (its published hash keeps verifying).
    expect(createHash('sha256').update(await readFile(join(dir, 'v.onnx'))).digest('hex')).toBe(
      createHash('sha256').update(original).digest('hex'),
    );
  });

  test('encodes metadata_props as ModelProto field 14 entries with key=1 / value=2', () => {
    expect([...encodeMetadataProps({ a: 'b' })]).toEqual([0x72, 6, 0x0a, 1, 0x61, 0x12, 1, 0x62]);
  });

  test('the sherpa model loads in sherpa-onnx and speaks (tiny generated voice)', async () => {
    const dataDir = findEspeakNgDataDir();
    let sherpa: { OfflineTts: new (cfg: unknown) => { sampleRate: number; generate(o: unknown): { samples: Float32Array; sampleRate: number } } };
    try {
      sherpa = createRequire(import.meta.url)('sherpa-onnx-node');
    } catch {
      console.warn('sherpa-onnx-node not loadable here; skipping the load check');
      return;
    }
    if (!dataDir) {
      console.warn('no espeak-ng-data found; skipping the load check');
      return;
    }
    const voice = await writeTinyPiperVoice(join(dir, 'tiny'));
    const symbols = (await readFile(voice.tokens, 'utf8')).split('\n').filter(Boolean);
    const map: Record<string, number[]> = {};
    for (const line of symbols) {
      const sp = line.lastIndexOf(' ');
      map[line.slice(0, sp)] = [Number(line.slice(sp + 1))];
    }
    const cfgPath = join(dir, 'tiny.onnx.json');
    await writeFile(cfgPath, JSON.stringify({ ...config, espeak: { voice: 'en-us' }, language: { name_english: 'English' }, phoneme_id_map: map }));
    const out = await preparePiperForSherpa({
      onnx: voice.model,
      config: cfgPath,
      tokensOut: join(dir, 'tokens.txt'),
      modelOut: join(dir, 'tiny.sherpa.onnx'),
    });
    const tts = new sherpa.OfflineTts({
      model: { vits: { model: out.model, tokens: out.tokens, dataDir }, numThreads: 1, provider: 'cpu', debug: false },
      maxNumSentences: 1,
    });
    const audio = tts.generate({ text: 'hello world', sid: 0, speed: 1.0 });
    expect(audio.sampleRate).toBe(22050);
    expect(audio.samples.length).toBeGreaterThan(0);
  });
});
