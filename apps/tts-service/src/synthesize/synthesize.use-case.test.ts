import { Logger } from '@nestjs/common';
import { ParleyError, type ParsedSynthesizeRequest, type SynthesizeStreamMessage } from '@parley/contracts';
import { ConcurrencyGate, ModelLifecycle, ServiceMetrics } from '@parley/service-kit';
import { metricValue, waitUntil } from '@parley/service-kit/testing';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import type { SynthesisRequest, SynthesisResult, TtsEngine, VoiceInfo } from '../engine/tts-engine.port.js';
import { SynthesizeUseCase } from './synthesize.use-case.js';

/** An engine behind the port: emits the given chunks, or waits until aborted when `hang` is set. */
class FakeEngine implements TtsEngine {
  readonly modelName = 'tiny-en,tiny-es';
  readonly defaultVoice = 'tiny-en';
  chunks: Float32Array[] = [new Float32Array([0.5, -0.5]), new Float32Array([1, 0, -1])];
  hang = false;
  failWith: Error | undefined;
  calls: Array<{ request: SynthesisRequest; signal: AbortSignal }> = [];
  consumedAfterAbort = 0;

  voices(): VoiceInfo[] {
    return [
      { id: 'tiny-en', languages: ['en'], sampleRate: 22050, speakers: 1 },
      { id: 'tiny-es', languages: ['es'], sampleRate: 16000, speakers: 1 },
    ];
  }

  async load(): Promise<void> {}

  async synthesize(request: SynthesisRequest, onAudio: (samples: Float32Array) => void, signal: AbortSignal): Promise<SynthesisResult> {
    this.calls.push({ request, signal });
    const sampleRate = this.voices().find((v) => v.id === request.voice)!.sampleRate;
    if (this.failWith) throw this.failWith;
    let samples = 0;
    for (const chunk of this.chunks) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (signal.aborted) return { sampleRate, samples, stopped: true };
      samples += chunk.length;
      onAudio(chunk);
    }
    if (this.hang) {
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      return { sampleRate, samples, stopped: true };
    }
    return { sampleRate, samples, stopped: false };
  }
}

const request = (change: Partial<ParsedSynthesizeRequest> = {}): ParsedSynthesizeRequest => ({
  request_id: 'req-12345678',
  text: 'Hello there.',
  language: 'en',
  speed: 1,
  speaker_id: 0,
  ...change,
});

async function setUp(options: { loaded?: boolean; slots?: number; queued?: number; timeoutMs?: number; maxBytes?: number } = {}) {
  const engine = new FakeEngine();
  const metrics = new ServiceMetrics('tts');
  const model = new ModelLifecycle('tts', engine.modelName, metrics);
  if (options.loaded !== false) await model.load(() => engine.load());
  const useCase = new SynthesizeUseCase(engine, model, new ConcurrencyGate(options.slots ?? 2, options.queued ?? 4), metrics, {
    generationTimeoutMs: options.timeoutMs ?? 5_000,
    maxPcmBytesPerMessage: options.maxBytes ?? 1024,
  });
  const outcome = async (name: string) =>
    metricValue(await metrics.registry.metrics(), 'parley_request_duration_seconds_count', { operation: 'synthesize', outcome: name });
  return { engine, model, useCase, outcome };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the stream to fail');
    },
    (error: unknown) => error as ParleyError,
  );

describe('SynthesizeUseCase', () => {
  beforeAll(() => Logger.overrideLogger(['error']));

  it('streams each chunk as 16-bit PCM in order, then one done', async () => {
    const { useCase, model, outcome } = await setUp();
    const messages = await lastValueFrom(useCase.stream(request()).pipe(toArray()));
    expect(messages).toEqual([
      { type: 'audio', seq: 0, sample_rate: 22050, pcm: new Uint8Array([0x00, 0x40, 0x00, 0xc0]) },
      { type: 'audio', seq: 1, sample_rate: 22050, pcm: new Uint8Array([0xff, 0x7f, 0x00, 0x00, 0x00, 0x80]) },
      { type: 'done', voice: 'tiny-en', sample_rate: 22050, samples: 5, replica: model.replica },
    ]);
    expect(await outcome('ok')).toBe(1);
  });

  it("passes the language's voice, text, speed and speaker to the engine", async () => {
    const { useCase, engine } = await setUp();
    const messages = await lastValueFrom(useCase.stream(request({ language: 'es', speed: 0.5, text: 'Hola.' })).pipe(toArray()));
    expect(engine.calls[0]!.request).toEqual({ voice: 'tiny-es', text: 'Hola.', speakerId: 0, speed: 0.5 });
    expect(messages.at(-1)).toEqual(expect.objectContaining({ type: 'done', voice: 'tiny-es', sample_rate: 16000 }));
  });

  it('splits a chunk larger than the message limit into consecutive messages', async () => {
    const { useCase, engine } = await setUp({ maxBytes: 8 });
    engine.chunks = [new Float32Array(10).fill(0.25)];
    const messages = await lastValueFrom(useCase.stream(request()).pipe(toArray()));
    const audio = messages.filter((m): m is Extract<SynthesizeStreamMessage, { type: 'audio' }> => m.type === 'audio');
    expect(audio.map((m) => [m.seq, m.pcm.byteLength])).toEqual([
      [0, 8],
      [1, 8],
      [2, 4],
    ]);
    expect(messages.at(-1)).toEqual(expect.objectContaining({ type: 'done', samples: 10 }));
  });

  it('refuses while the voices are not loaded', async () => {
    const { useCase, engine } = await setUp({ loaded: false });
    const error = await failure(lastValueFrom(useCase.stream(request())));
    expect(error).toEqual(expect.objectContaining({ code: 'MODEL_NOT_LOADED', message: expect.stringMatching(/not_loaded/) }));
    expect(engine.calls).toHaveLength(0);
  });

  it('refuses an unknown voice without calling the engine', async () => {
    const { useCase, engine } = await setUp();
    const error = await failure(lastValueFrom(useCase.stream(request({ voice: 'nope' }))));
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.message).toMatch(/unknown voice 'nope'; resident voices: tiny-en, tiny-es/);
    expect(engine.calls).toHaveLength(0);
  });

  it('reports an engine failure as ENGINE_FAILED and counts it', async () => {
    const { useCase, engine, outcome } = await setUp();
    engine.failWith = new Error('onnxruntime exploded');
    const error = await failure(lastValueFrom(useCase.stream(request())));
    expect(error).toEqual(expect.objectContaining({ code: 'ENGINE_FAILED', message: 'onnxruntime exploded' }));
    expect(await outcome('ENGINE_FAILED')).toBe(1);
  });

  it('aborts the engine and counts a cancel when the caller unsubscribes mid-stream', async () => {
    const { useCase, engine, outcome } = await setUp();
    engine.hang = true;
    const first = await firstValueFrom(useCase.stream(request()).pipe(take(1)));
    expect(first.type).toBe('audio');
    expect(engine.calls[0]!.signal.aborted).toBe(true);
    // Counted when the engine has stopped, not when the cancel arrived.
    await waitUntil(async () => (await outcome('cancelled')) === 1, 'the cancel counted');
    expect(await outcome('ok')).toBe(0);
  });

  it('stops a generation that outlives the timeout with TIMEOUT and aborts the engine', async () => {
    const { useCase, engine, outcome } = await setUp({ timeoutMs: 100 });
    engine.hang = true;
    const received: SynthesizeStreamMessage[] = [];
    const error = await failure(
      new Promise((resolve, reject) => useCase.stream(request()).subscribe({ next: (m) => received.push(m), error: reject, complete: () => resolve(undefined) })),
    );
    expect(error).toEqual(expect.objectContaining({ code: 'TIMEOUT', message: expect.stringMatching(/longer than 100 ms/) }));
    expect(engine.calls[0]!.signal.aborted).toBe(true);
    expect(received.map((m) => m.type)).toEqual(['audio', 'audio']);
    expect(await outcome('TIMEOUT')).toBe(1);
  });

  it('refuses with SERVICE_BUSY when every slot and queue place is taken', async () => {
    const { useCase, engine } = await setUp({ slots: 1, queued: 0 });
    engine.hang = true;
    const running = useCase.stream(request()).subscribe({ error: () => undefined });
    const error = await failure(lastValueFrom(useCase.stream(request())));
    expect(error.code).toBe('SERVICE_BUSY');
    running.unsubscribe();
  });
});
