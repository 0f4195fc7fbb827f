import { FEEDBACK_JSON_SCHEMA, type StopReason } from '@parley/contracts';
import { ConcurrencyGate, ModelLifecycle, ServiceMetrics } from '@parley/service-kit';
import { lastValueFrom, take, toArray } from 'rxjs';
import type { GenerationRequest, GenerationResult, LlmEngine } from '../engine/llm-engine.port.js';
import { ChatUseCase } from './chat.use-case.js';

/** An engine behind the port that writes the given pieces, one per tick, until aborted. */
class ScriptedEngine implements LlmEngine {
  readonly modelName = 'scripted';
  lastSignal?: AbortSignal;
  lastRequest?: GenerationRequest;
  constructor(
    private readonly pieces: string[],
    /** How the engine says it stopped when it wrote every piece. */
    private readonly stopReason: StopReason = 'eog',
  ) {}
  async load(): Promise<void> {}
  async generate(
    request: GenerationRequest,
    onText: (text: string) => void,
    signal: AbortSignal,
  ): Promise<GenerationResult> {
    this.lastRequest = request;
    this.lastSignal = signal;
    let written = 0;
    for (const piece of this.pieces) {
      if (signal.aborted) break;
      onText(piece);
      written++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return { stopReason: signal.aborted ? 'cancelled' : this.stopReason, promptTokens: 10, completionTokens: written };
  }
}

async function useCase(engine: LlmEngine, loaded = true) {
  const metrics = new ServiceMetrics('llm');
  const lifecycle = new ModelLifecycle('llm', engine.modelName, metrics);
  if (loaded) await lifecycle.load(() => engine.load());
  return { chat: new ChatUseCase(engine, lifecycle, new ConcurrencyGate(1, 1), metrics), metrics };
}

const request = { request_id: 'abcdefgh', messages: [{ role: 'user' as const, content: 'Hola' }] };

describe('ChatUseCase', () => {
  it('streams each piece of text, then one done with the stop reason and token counts', async () => {
    const { chat } = await useCase(new ScriptedEngine(['Ho', 'la', '.']));
    const messages = await lastValueFrom(chat.stream(request).pipe(toArray()));
    expect(messages).toEqual([
      { type: 'chunk', text: 'Ho' },
      { type: 'chunk', text: 'la' },
      { type: 'chunk', text: '.' },
      {
        type: 'done',
        stop_reason: 'eog',
        prompt_tokens: 10,
        completion_tokens: 3,
        model: 'scripted',
        replica: expect.any(String),
      },
    ]);
  });

  it('applies the default max_tokens and temperature when the request sets none', async () => {
    const engine = new ScriptedEngine(['x']);
    const { chat } = await useCase(engine);
    await lastValueFrom(chat.stream(request));
    expect(engine.lastRequest).toEqual(expect.objectContaining({ maxTokens: 256, temperature: 0.7 }));
  });

  it('passes top_p, seed and stop sequences on to the engine', async () => {
    const engine = new ScriptedEngine(['x']);
    const { chat } = await useCase(engine);
    await lastValueFrom(chat.stream({ ...request, top_p: 0.9, seed: 42, stop: ['\n\n', 'END'] }));
    expect(engine.lastRequest).toEqual(expect.objectContaining({ topP: 0.9, seed: 42, stop: ['\n\n', 'END'] }));
  });

  it('aborts the generation when the subscriber leaves mid-stream', async () => {
    const engine = new ScriptedEngine(Array.from({ length: 100 }, () => 'a'));
    const { chat } = await useCase(engine);
    await lastValueFrom(chat.stream(request).pipe(take(2)));
    expect(engine.lastSignal?.aborted).toBe(true);
  });

  it('refuses with MODEL_NOT_LOADED while the model is not loaded', async () => {
    const { chat } = await useCase(new ScriptedEngine(['x']), false);
    await expect(lastValueFrom(chat.stream(request))).rejects.toMatchObject({ code: 'MODEL_NOT_LOADED' });
  });

  describe('with a response_format', () => {
    const feedback = { corrections: [], translation: 'Hello!', vocabulary: [{ word: 'hola', translation: 'hello' }] };
    const json = JSON.stringify(feedback);
    /** The JSON cut into pieces of 7 characters, as a model writes it token by token. */
    const pieces = (text: string) => text.match(/.{1,7}/gs)!;
    const structured = { ...request, response_format: { type: 'json_schema' as const, schema: FEEDBACK_JSON_SCHEMA } };

    it('hands the format to the engine, streams the JSON as it comes, and ends with the parsed value', async () => {
      const engine = new ScriptedEngine(pieces(json));
      const { chat } = await useCase(engine);
      const messages = await lastValueFrom(chat.stream(structured).pipe(toArray()));
      expect(engine.lastRequest?.responseFormat).toEqual(structured.response_format);
      const chunks = messages.filter((m) => m.type === 'chunk');
      expect(chunks.length).toBeGreaterThan(1);
      expect(chunks.map((m) => m.text).join('')).toBe(json);
      expect(messages.at(-1)).toEqual(expect.objectContaining({ type: 'done', stop_reason: 'eog', value: feedback }));
    });

    it('accepts any JSON object for json_object', async () => {
      const { chat } = await useCase(new ScriptedEngine(['{"a":', '[1,', 'null]}']));
      const done = await lastValueFrom(chat.stream({ ...request, response_format: { type: 'json_object' } }));
      expect(done).toEqual(expect.objectContaining({ type: 'done', value: { a: [1, null] } }));
    });

    it('reports JSON cut by the token limit as max_tokens without a value, counted as truncated', async () => {
      const { chat, metrics } = await useCase(new ScriptedEngine(pieces(json).slice(0, 3), 'max_tokens'));
      const done = await lastValueFrom(chat.stream(structured));
      expect(done).toEqual(expect.objectContaining({ type: 'done', stop_reason: 'max_tokens' }));
      expect(done).not.toHaveProperty('value');
      expect(await metrics.registry.getSingleMetricAsString('parley_request_duration_seconds')).toMatch(
        /outcome="truncated"/,
      );
    });

    it('fails with ENGINE_FAILED, never a value, when a finished answer is not valid JSON', async () => {
      const { chat } = await useCase(new ScriptedEngine(['{"corrections":', '[']));
      await expect(lastValueFrom(chat.stream(structured))).rejects.toMatchObject({
        code: 'ENGINE_FAILED',
        message: expect.stringMatching(/not valid JSON/),
      });
    });

    it('fails with ENGINE_FAILED naming the mismatch when a finished answer does not match the schema', async () => {
      const { chat } = await useCase(new ScriptedEngine([JSON.stringify({ ...feedback, translation: 3 })]));
      await expect(lastValueFrom(chat.stream(structured))).rejects.toMatchObject({
        code: 'ENGINE_FAILED',
        message: "The model's answer does not match the schema: translation: must be a string.",
      });
      const { chat: objectChat } = await useCase(new ScriptedEngine(['[1]']));
      await expect(
        lastValueFrom(objectChat.stream({ ...request, response_format: { type: 'json_object' } })),
      ).rejects.toMatchObject({
        code: 'ENGINE_FAILED',
        message: expect.stringMatching(/not an object/),
      });
    });
  });
});
