/**
 * The built llm-service against a private nats-server and the REAL node-llama-cpp on the
 * generated tiny GGUF: structured generation through the chat subject, as the gateway calls it.
 * The model's words are nonsense; the structure must be exact.
 */
import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import {
  chatStreamMessageSchema,
  FEEDBACK_JSON_SCHEMA,
  feedbackSchema,
  ParleyError,
  serviceHealthSchema,
  SUBJECTS,
  type ChatDone,
  type ChatRequest,
  type ChatStreamMessage,
} from '@parley/contracts';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { streamRequest } from '@parley/service-kit';
import { freePort, metricValue, spawnService, startNatsServer, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';

const LLM_MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const FEEDBACK_FORMAT = { type: 'json_schema', schema: FEEDBACK_JSON_SCHEMA } as const;

describe('llm-service: structured generation through NATS on the real engine', () => {
  let nats: TestNatsServer;
  let dir: string;
  let llm: SpawnedService;
  let httpPort: number;
  let client: ClientProxy;

  /** Sends one chat request like the gateway does and returns every reply. */
  function chat(request: Omit<ChatRequest, 'request_id'> | Record<string, unknown>): Promise<ChatStreamMessage[]> {
    return lastValueFrom(
      streamRequest(client, { request_id: randomUUID().replaceAll('-', ''), ...request }, {
        service: 'llm',
        subject: SUBJECTS.llm.chat,
        parse: (reply) => chatStreamMessageSchema.parse(reply),
        firstReplyTimeoutMs: 30_000,
        idleTimeoutMs: 30_000,
      }).pipe(toArray()),
    );
  }

  const messages = (content: string) => [
    { role: 'system' as const, content: 'Give feedback on what the learner wrote, as JSON.' },
    { role: 'user' as const, content },
  ];
  const text = (replies: ChatStreamMessage[]) =>
    replies.flatMap((reply) => (reply.type === 'chunk' ? [reply.text] : [])).join('');
  const done = (replies: ChatStreamMessage[]) => replies.at(-1) as ChatDone;
  const chatCount = async (outcome?: string) =>
    metricValue(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text(), 'parley_request_duration_seconds_count', {
      operation: 'chat',
      ...(outcome ? { outcome } : {}),
    });
  const chatError = (request: Record<string, unknown>) =>
    chat(request).then(
      () => {
        throw new Error('the request was accepted');
      },
      (error: unknown) => error as ParleyError,
    );

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-llm-structured-'));
    const { path } = await writeTinyGguf(join(dir, 'tiny.gguf'));
    httpPort = await freePort();
    llm = spawnService('llm-service', LLM_MAIN, {
      NATS_URL: nats.url,
      LLM_MODEL_PATH: path,
      LLM_THREADS: '1',
      LLM_SEQUENCES: '2',
      // All 20 generations of a test are sent at once.
      LLM_MAX_QUEUED: '32',
      LLM_HTTP_PORT: String(httpPort),
    });
    client = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: nats.url } }) as ClientProxy;
    await client.connect();
    const health = async () => serviceHealthSchema.parse(await firstValueFrom(client.send(SUBJECTS.llm.health, {})));
    await waitUntil(async () => (await health()).status === 'loaded', 'the llm model to load', 60_000).catch((error) => {
      throw new Error(`${String(error)}\nllm-service output:\n${llm.output()}`);
    });
  });

  afterAll(async () => {
    await client?.close();
    await llm?.stop();
    await nats?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers 20 feedback generations, all streamed as JSON that parses and matches the feedback schema', async () => {
    const learnerLines = Array.from({ length: 20 }, (_, i) => `Yo tener ${i} años y me gusta los gatos.`);
    const answers = await Promise.all(
      learnerLines.map((line, i) => chat({ messages: messages(line), max_tokens: 1024, temperature: 0.2 + i * 0.08, response_format: FEEDBACK_FORMAT })),
    );
    for (const replies of answers) {
      const end = done(replies);
      expect(end.stop_reason).not.toBe('max_tokens');
      // The value is the streamed text, parsed, and it satisfies the contract's zod schema too.
      expect(end.value).toEqual(JSON.parse(text(replies)));
      expect(feedbackSchema.parse(end.value)).toEqual(end.value);
      expect(replies.filter((reply) => reply.type === 'done')).toHaveLength(1);
    }
  });

  it('answers json_object with a JSON object', async () => {
    const replies = await chat({ messages: messages('Hola'), max_tokens: 300, response_format: { type: 'json_object' } });
    const end = done(replies);
    expect(end.value).toEqual(JSON.parse(text(replies)));
    expect(end.value).toEqual(expect.any(Object));
  });

  it('reports a generation cut by max_tokens as truncated: stop reason max_tokens and no value', async () => {
    const truncatedBefore = await chatCount('truncated');
    const replies = await chat({ messages: messages('Hola'), max_tokens: 12, response_format: FEEDBACK_FORMAT });
    const end = done(replies);
    expect(end.stop_reason).toBe('max_tokens');
    expect(end).not.toHaveProperty('value');
    expect(end.completion_tokens).toBe(12);
    expect(() => JSON.parse(text(replies))).toThrow();
    expect(await chatCount('truncated')).toBe(truncatedBefore + 1);
  });

  it('refuses bad schemas with INVALID_REQUEST saying what to fix, before generating anything', async () => {
    const chatsBefore = await chatCount();
    const unbounded = await chatError({
      messages: messages('Hola'),
      response_format: { type: 'json_schema', schema: { type: 'object', properties: { word: { type: 'string' } } } },
    });
    expect(unbounded).toBeInstanceOf(ParleyError);
    expect(unbounded.code).toBe('INVALID_REQUEST');
    expect(unbounded.message).toMatch(/response_format\.schema\.properties\.word\.maxLength: a string needs 'maxLength'/);

    const unsupported = await chatError({
      messages: messages('Hola'),
      response_format: { type: 'json_schema', schema: { type: 'object', properties: { n: { type: 'string', maxLength: 3, format: 'email' } } } },
    });
    expect(unsupported).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/'format' is not supported/) });

    const notAnObject = await chatError({ messages: messages('Hola'), response_format: { type: 'json_schema', schema: { type: 'array', items: { type: 'null' }, maxItems: 2 } } });
    expect(notAnObject).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/the root must be an object schema/) });

    const unknownFormat = await chatError({ messages: messages('Hola'), response_format: { type: 'xml' } });
    expect(unknownFormat).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/'json_object' or 'json_schema'/) });

    // Refused at the edge: the service never started a generation for them.
    expect(await chatCount()).toBe(chatsBefore);
  });
});
