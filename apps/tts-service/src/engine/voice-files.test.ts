import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyPiperVoice } from '@parley/models/fixtures/piper';
import { checkVoiceFiles, tokenSymbols } from './voice-files.js';

describe('checkVoiceFiles (before sherpa-onnx sees a voice)', () => {
  let dir: string;
  let voice: { model: string; tokens: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-tts-files-'));
    voice = await writeTinyPiperVoice(join(dir, 'tiny'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('accepts a Piper voice prepared for sherpa-onnx', async () => {
    await expect(checkVoiceFiles('tiny', voice)).resolves.toBeUndefined();
  });

  it('names a missing model or tokens file', async () => {
    await expect(checkVoiceFiles('tiny', { ...voice, model: join(dir, 'nope.onnx') })).rejects.toThrow(
      `voice tiny: model file not found: ${join(dir, 'nope.onnx')}`,
    );
    await expect(checkVoiceFiles('tiny', { ...voice, tokens: join(dir, 'nope.txt') })).rejects.toThrow(/voice tiny: tokens file not found/);
  });

  it('refuses an empty file and a directory', async () => {
    const empty = join(dir, 'empty.onnx');
    await writeFile(empty, '');
    await expect(checkVoiceFiles('tiny', { ...voice, model: empty })).rejects.toThrow(/model file is empty or not a file/);
    await expect(checkVoiceFiles('tiny', { ...voice, model: dir })).rejects.toThrow(/model file is empty or not a file/);
  });

  it('refuses a model without sample_rate metadata (sherpa-onnx would exit the process)', async () => {
    const bare = join(dir, 'bare.onnx');
    await writeFile(bare, Buffer.from('not an onnx model'));
    await expect(checkVoiceFiles('tiny', { ...voice, model: bare })).rejects.toThrow(/has no "sample_rate" metadata/);
  });

  it('refuses tokens without ^ (sherpa-onnx would never finish loading)', async () => {
    const tokens = join(dir, 'tokens-no-caret.txt');
    await writeFile(tokens, '_ 0\n$ 2\n3\na 4\n');
    await expect(checkVoiceFiles('tiny', { ...voice, tokens })).rejects.toThrow(/lacks the symbol\(s\) \^/);
  });
});

describe('tokenSymbols', () => {
  it('reads `symbol id` lines and a bare id as the space', () => {
    expect([...tokenSymbols('_ 0\n^ 1\n$ 2\n3\na 4\r\n\n')]).toEqual(['_', '^', '$', ' ', 'a']);
  });
});
