import { ConcurrencyGate, ModelLifecycle, ServiceMetrics } from '@parley/service-kit';
import { lastValueFrom, take, toArray } from 'rxjs';
import type { GenerationRequest, GenerationResult, LlmEngine } from '../engine/llm-engine.port.js';
import { ChatUseCase } from './chat.use-case.js';

/** An engine behind the port that writes the given pieces, one per tick, until aborted. */
class ScriptedEngine implements LlmEngine {
  readonly modelName = 'scripted';
  lastSignal?: AbortSignal;
  lastRequest?: GenerationRequest;
  constructor(private readonly pieces: string[]) {}
  async load(): Promise<void> {}
  async generate(request: GenerationRequest, onText: (text: string) => void, signal: AbortSignal): Promise<GenerationResult> {
    this.lastRequest = request;
    this.lastSignal = signal;
    let written = 0;
    for (const piece of this.pieces) {
      if (signal.aborted) break;
      onText(piece);
      written++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return { stopReason: signal.aborted ? 'cancelled' : 'eog', promptTokens: 10, completionTokens: written };
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
      { type: 'done', stop_reason: 'eog', prompt_tokens: 10, completion_tokens: 3, model: 'scripted', replica: expect.any(String) },
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
});
