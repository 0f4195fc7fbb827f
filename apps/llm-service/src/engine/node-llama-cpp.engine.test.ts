import { jest } from '@jest/globals';
import { FEEDBACK_JSON_SCHEMA } from '@parley/contracts';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Llama } from 'node-llama-cpp';
import type { GenerationRequest } from './llm-engine.port.js';
import { NodeLlamaCppEngine } from './node-llama-cpp.engine.js';

/** The real adapter on the generated tiny GGUF, in process. */
describe('NodeLlamaCppEngine with a response_format', () => {
  let dir: string;
  let engine: NodeLlamaCppEngine;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-llm-engine-'));
    const { path } = await writeTinyGguf(join(dir, 'tiny.gguf'));
    engine = new NodeLlamaCppEngine({ modelPath: path, sequences: 2, threads: 1, contextSize: 2048, gpu: false });
    await engine.load();
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function generate(request: Partial<GenerationRequest>): Promise<{ text: string; stopReason: string }> {
    let text = '';
    const result = await engine.generate(
      { messages: [{ role: 'user', content: 'Hola' }], maxTokens: 1024, temperature: 0.7, ...request },
      (piece) => (text += piece),
      new AbortController().signal,
    );
    return { text, stopReason: result.stopReason };
  }

  it('writes JSON of the schema, token by token, however nonsensical the words', async () => {
    const { text, stopReason } = await generate({
      responseFormat: { type: 'json_schema', schema: FEEDBACK_JSON_SCHEMA },
    });
    expect(stopReason).not.toBe('max_tokens');
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['corrections', 'translation', 'vocabulary']);
  });

  it('builds one grammar per schema, whatever the order of its keys, and shares it between requests', async () => {
    const llama = (engine as unknown as { llama: Llama }).llama;
    const build = jest.spyOn(llama, 'createGrammarForJsonSchema');
    const schema = {
      type: 'object' as const,
      properties: { ok: { type: 'boolean' as const }, n: { type: 'integer' as const } },
    };
    const reordered = {
      properties: { n: { type: 'integer' as const }, ok: { type: 'boolean' as const } },
      type: 'object' as const,
    };
    // Two at once: one per context sequence.
    const answers = await Promise.all([
      generate({ responseFormat: { type: 'json_schema', schema } }),
      generate({ responseFormat: { type: 'json_schema', schema } }),
    ]);
    answers.push(await generate({ responseFormat: { type: 'json_schema', schema: reordered } }));
    for (const { text } of answers)
      expect(JSON.parse(text)).toEqual({ ok: expect.any(Boolean), n: expect.any(Number) });
    await generate({ responseFormat: { type: 'json_object' } });
    await generate({ responseFormat: { type: 'json_object' } });
    expect(build).toHaveBeenCalledTimes(2);
    build.mockRestore();
  });

  it('writes free text without a response_format', async () => {
    const { text } = await generate({});
    expect(() => JSON.parse(text)).toThrow();
    expect(text.trim().length).toBeGreaterThan(0);
  });
});
