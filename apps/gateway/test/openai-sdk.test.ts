import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { tinyGgufExpectedReply } from '@parley/models/fixtures/gguf';
import { metricValue, startNatsServer, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import { startEdgeGateway } from './edge-support.js';
import { getJson, makeSpeech, parseWav, type TestGateway } from './support.js';
import { startLlmSystem, startModelServices, type LlmSystem } from './system-support.js';

const KEY = 'sdk-key-0123456789';
const REPLY = tinyGgufExpectedReply();

/**
 * Issue 11, item 1: the official `openai` SDK, configured only with a base URL and a key, against
 * the whole system on generated models.
 */
describe('the OpenAI-compatible API through the official SDK', () => {
  let nats: TestNatsServer;
  let dir: string;
  let services: SpawnedService[] = [];
  let gateway: TestGateway;
  let client: OpenAI;
  let speechWav: string;

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-openai-'));
    speechWav = makeSpeech(dir, 'Hello, I would like a coffee please.').wav;
    services = await startModelServices(nats.url, dir);
    gateway = await startEdgeGateway(nats.url, { apiKeys: [KEY] });
    await waitUntil(async () => (await getJson(`${gateway.url}/api/health/ready`)).status === 200, 'every model to load', 60_000);
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: KEY });
  }, 120_000);

  afterAll(async () => {
    await gateway?.close();
    await Promise.all(services.map((s) => s.stop()));
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the loaded model of each role and each voice', async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model);
    expect(models.map((m) => (m as unknown as { parley_role: string }).parley_role)).toEqual(['llm', 'stt', 'tts']);
    expect(models.at(-1)).toEqual(expect.objectContaining({ id: 'tiny', object: 'model', owned_by: 'parley' }));
  });

  it('answers a chat completion with its finish reason and usage', async () => {
    const completion = await client.chat.completions.create({ model: 'parley', messages: [{ role: 'user', content: 'Hola' }] });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]!.message).toEqual(expect.objectContaining({ role: 'assistant', content: REPLY }));
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(completion.usage!.completion_tokens).toBeGreaterThan(0);
    expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + completion.usage!.completion_tokens);
  });

  it('streams a chat completion chunk by chunk, with usage when asked, ending with [DONE]', async () => {
    const stream = await client.chat.completions.create({
      model: 'parley',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hola' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(content).toBe(REPLY);
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThan(3);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage!.completion_tokens).toBeGreaterThan(0);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it('stops at max_tokens with finish_reason length', async () => {
    const completion = await client.chat.completions.create({ model: 'parley', messages: [{ role: 'user', content: 'Hola' }], max_completion_tokens: 3 });
    expect(completion.choices[0]!.finish_reason).toBe('length');
    expect(completion.usage!.completion_tokens).toBe(3);
    expect(REPLY.startsWith(completion.choices[0]!.message.content!)).toBe(true);
  });

  it('stops before a stop sequence, which is not in the answer', async () => {
    const words = REPLY.split(' ');
    const stop = ` ${words[3]}`;
    const completion = await client.chat.completions.create({ model: 'parley', messages: [{ role: 'user', content: 'Hola' }], stop: [stop] });
    expect(completion.choices[0]!.message.content).toBe(REPLY.slice(0, REPLY.indexOf(stop)));
    expect(completion.choices[0]!.finish_reason).toBe('stop');
  });

  it('answers a json_schema completion that parses and matches the schema', async () => {
    const completion = await client.chat.completions.create({
      model: 'parley',
      messages: [{ role: 'user', content: 'Say hello as JSON' }],
      max_tokens: 200,
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'greeting',
          strict: true,
          schema: { type: 'object', properties: { greeting: { type: 'string', maxLength: 30 }, polite: { type: 'boolean' } }, required: ['greeting', 'polite'], additionalProperties: false },
        },
      },
    });
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual({ greeting: expect.any(String), polite: expect.any(Boolean) });
  });

  it('answers a json_object completion that parses as an object', async () => {
    const completion = await client.chat.completions.create({
      model: 'parley',
      messages: [{ role: 'user', content: 'Answer in JSON' }],
      max_tokens: 200,
      response_format: { type: 'json_object' },
    });
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(typeof JSON.parse(completion.choices[0]!.message.content!)).toBe('object');
  });

  it('refuses a json_schema with an unbounded string with a 400 that says what to add', async () => {
    const request = client.chat.completions.create({
      model: 'parley',
      messages: [{ role: 'user', content: 'Hola' }],
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } } },
    });
    await expect(request).rejects.toMatchObject({ status: 400, error: expect.objectContaining({ type: 'invalid_request_error', message: expect.stringMatching(/maxLength/) }) });
  });

  it('refuses a bad request with 400 in OpenAI shape naming the field', async () => {
    await expect(client.chat.completions.create({ model: 'parley', messages: [] })).rejects.toMatchObject({
      status: 400,
      error: expect.objectContaining({ message: expect.stringMatching(/messages/), code: 'invalid_request' }),
    });
  });

  const TRANSCRIPTS: [string, unknown][] = [
    ['json', { text: expect.stringMatching(/\S/) }],
    ['text', expect.stringMatching(/\S\n$/)],
    [
      'verbose_json',
      expect.objectContaining({
        task: 'transcribe',
        language: expect.any(String),
        duration: expect.any(Number),
        text: expect.stringMatching(/\S/),
        segments: expect.arrayContaining([expect.objectContaining({ id: 0, start: expect.any(Number), end: expect.any(Number) })]),
      }),
    ],
    ['srt', expect.stringMatching(/^1\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\n\S/)],
    ['vtt', expect.stringMatching(/^WEBVTT\n\n\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}\n\S/)],
  ];

  it.each(TRANSCRIPTS)('transcribes a WAV as %s', async (format, expected) => {
    const transcript: unknown = await client.audio.transcriptions.create({
      file: createReadStream(speechWav),
      model: 'whisper-1',
      response_format: format as 'json',
    });
    expect(transcript).toEqual(expected);
  });

  it('speaks as WAV, streamed (length unknown in the header), and as raw PCM', async () => {
    const wav = new Uint8Array(await (await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hello there. How are you?', response_format: 'wav' })).arrayBuffer());
    const header = parseWav(wav);
    expect(header).toEqual(expect.objectContaining({ channels: 1, bitsPerSample: 16, dataBytes: 0xffffffff }));
    expect(wav.byteLength).toBeGreaterThan(44 + 100);
    const pcm = await client.audio.speech.create({ model: 'tts-1', voice: 'tiny', input: 'Hello there.', response_format: 'pcm', speed: 2 });
    expect(pcm.headers.get('x-sample-rate')).toBe(String(header.sampleRate));
    const bytes = (await pcm.arrayBuffer()).byteLength;
    expect(bytes % 2).toBe(0);
    expect(bytes).toBeGreaterThan(0);
  });

  it('speaks as MP3 when no format is named (as OpenAI does), and as Opus in Ogg', async () => {
    const mp3 = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hello there. How are you?' });
    expect(mp3.headers.get('content-type')).toMatch(/^audio\/mpeg/);
    expect(codecOf(Buffer.from(await mp3.arrayBuffer()))).toBe('mp3');
    const opus = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hello there.', response_format: 'opus' });
    expect(opus.headers.get('content-type')).toMatch(/^audio\/ogg/);
    expect(codecOf(Buffer.from(await opus.arrayBuffer()))).toBe('opus');
  });

  it('refuses an unknown voice and instructions with 400', async () => {
    await expect(client.audio.speech.create({ model: 'tts-1', voice: 'nobody', input: 'Hello.' })).rejects.toMatchObject({ status: 400, error: expect.objectContaining({ message: expect.stringMatching(/unknown voice 'nobody'/) }) });
    await expect(client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hello.', instructions: 'Speak slowly' })).rejects.toMatchObject({ status: 400, error: expect.objectContaining({ message: expect.stringMatching(/instructions are not supported/) }) });
  });

  it('refuses a wrong key with 401 on every route family', async () => {
    const wrong = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'not-the-key', maxRetries: 0 });
    const refused = { status: 401, error: expect.objectContaining({ type: 'authentication_error', code: 'invalid_api_key' }) };
    await expect(wrong.models.list()).rejects.toMatchObject(refused);
    await expect(wrong.chat.completions.create({ model: 'parley', messages: [{ role: 'user', content: 'Hola' }] })).rejects.toMatchObject(refused);
    await expect(wrong.audio.transcriptions.create({ file: createReadStream(speechWav), model: 'whisper-1' })).rejects.toMatchObject(refused);
    await expect(wrong.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hello.' })).rejects.toMatchObject(refused);
  });
});

/** The codec ffprobe finds in an answer's bytes. */
function codecOf(bytes: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-speech-'));
  try {
    writeFileSync(join(dir, 'speech'), bytes);
    const out = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', join(dir, 'speech')], { encoding: 'utf8' });
    return out.stdout.trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A generation long enough to be abandoned midway: an "endless" model (it writes until max_tokens). */
describe('an abandoned OpenAI stream', () => {
  let system: LlmSystem;
  let endless: OpenAI;

  beforeAll(async () => {
    system = await startLlmSystem({ endless: true });
    endless = new OpenAI({ baseURL: `${system.gateway.url}/v1`, apiKey: 'no-keys-configured' });
  }, 60_000);

  afterAll(() => system?.stop());

  it('cancels the generation when the client abandons a stream', async () => {
    const cancelledBefore = metricValue(await (await fetch(system.llmMetricsUrl)).text(), 'parley_request_duration_seconds_count', { operation: 'chat', outcome: 'cancelled' });
    const stream = await endless.chat.completions.create({ model: 'parley', messages: [{ role: 'user', content: 'Hola' }], stream: true, max_tokens: 2048 });
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) break; // leaving the loop aborts the request
    }
    await waitUntil(
      async () => metricValue(await (await fetch(system.llmMetricsUrl)).text(), 'parley_request_duration_seconds_count', { operation: 'chat', outcome: 'cancelled' }) > cancelledBefore,
      'the llm-service to count a cancelled generation',
      5_000,
    );
  });

});
