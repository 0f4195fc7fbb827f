import type { TestNatsServer } from '@parley/service-kit/testing';
import { getJson, postJson, postSse, startTestGateway, type TestGateway } from './support.js';
import { startLlmSystem, type LlmSystem } from './system-support.js';

const TURN = { message: 'Hello', language: 'es', difficulty: 'beginner', scenario: 'greeting' };

describe('text conversation through the gateway, the broker and the real llm-service', () => {
  let system: LlmSystem;
  let nats: TestNatsServer;
  let gateway: TestGateway;

  beforeAll(async () => {
    system = await startLlmSystem();
    ({ nats, gateway } = system);
  });

  afterAll(async () => {
    await gateway?.close(); // the one started after the restart test, if any
    await system?.stop();
  });

  it('streams response_start, the chunks and one complete whose full_response is the chunks joined', async () => {
    const { status, headers, events } = await postSse(`${gateway.url}/api/conversation/text-stream`, TURN);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(headers.get('x-accel-buffering')).toBe('no');
    expect(headers.get('cache-control')).toMatch(/no-cache/);

    const names = events.map((e) => e.event);
    expect(names[0]).toBe('response_start');
    expect(names.at(-1)).toBe('complete');
    expect(names.filter((n) => n === 'complete' || n === 'error')).toHaveLength(1);
    const chunks = events.filter((e) => e.event === 'response_chunk');
    expect(chunks.length).toBeGreaterThan(3);
    expect(names.slice(1, -1).every((n) => n === 'response_chunk')).toBe(true);

    const start = events[0]!.data;
    const complete = events.at(-1)!.data;
    expect(start).toEqual({ status: 'generating', session_id: expect.any(String) });
    expect(complete.session_id).toBe(start.session_id);
    expect(complete.language).toBe('es');
    expect(complete.full_response).toBe(chunks.map((c) => c.data.chunk).join(''));
    expect((complete.full_response as string).trim().length).toBeGreaterThan(0);
    expect(complete.timings).toEqual(
      expect.objectContaining({ llm_first_chunk_ms: expect.any(Number), llm_ms: expect.any(Number), total_ms: expect.any(Number) }),
    );
  });

  it('answers the blocking text route with response, language and a new session id', async () => {
    const { status, body } = await postJson(`${gateway.url}/api/conversation/text`, TURN);
    expect(status).toBe(200);
    expect(body).toEqual({ response: expect.any(String), language: 'es', session_id: expect.any(String) });
    expect(body.response.trim().length).toBeGreaterThan(0);
  });

  it('stores each completed turn, sends it with the next one, and keeps it across a gateway restart', async () => {
    const first = await postJson(`${gateway.url}/api/conversation/text`, TURN);
    const sessionId = first.body.session_id as string;
    const stored = await getJson(`${gateway.url}/api/conversation/session/${sessionId}`);
    expect(stored.body).toEqual({
      session_id: sessionId,
      count: 2,
      messages: [
        { role: 'user', content: 'Hello', language: 'es' },
        { role: 'assistant', content: first.body.response, language: 'es' },
      ],
    });

    // The same message in a fresh session vs in the stored one: the stored history makes the prompt longer.
    const fresh = await postSse(`${gateway.url}/api/conversation/text-stream`, TURN);
    const withHistory = await postSse(`${gateway.url}/api/conversation/text-stream`, { ...TURN, session_id: sessionId });
    const promptTokens = (run: typeof fresh) => (run.events.at(-1)!.data.usage as { prompt_tokens: number }).prompt_tokens;
    expect(promptTokens(withHistory)).toBeGreaterThan(promptTokens(fresh));

    await gateway.close();
    gateway = await startTestGateway(nats.url);
    const afterRestart = await getJson(`${gateway.url}/api/conversation/session/${sessionId}`);
    expect(afterRestart.body.count).toBe(4);
    expect(afterRestart.body.messages[2]).toEqual({ role: 'user', content: 'Hello', language: 'es' });
  });

  it('uses the history sent in the request instead of the stored one', async () => {
    const history = [
      { role: 'user', content: 'Me llamo Ana y vivo en Madrid.' },
      { role: 'assistant', content: 'Encantado, Ana. Madrid es preciosa.' },
    ];
    const without = await postSse(`${gateway.url}/api/conversation/text-stream`, TURN);
    const withGiven = await postSse(`${gateway.url}/api/conversation/text-stream`, { ...TURN, history });
    const tokens = (run: typeof without) => (run.events.at(-1)!.data.usage as { prompt_tokens: number }).prompt_tokens;
    expect(tokens(withGiven)).toBeGreaterThan(tokens(without));
  });

  it('clears a session', async () => {
    const { body } = await postJson(`${gateway.url}/api/conversation/text`, TURN);
    const res = await fetch(`${gateway.url}/api/conversation/session/${body.session_id}`, { method: 'DELETE' });
    expect(await res.json()).toEqual({ status: 'cleared', session_id: body.session_id });
    const after = await getJson(`${gateway.url}/api/conversation/session/${body.session_id}`);
    expect(after.body).toEqual({ session_id: body.session_id, messages: [], count: 0 });
  });

  it.each([
    ['an unknown language', { ...TURN, language: 'xx' }, /language.*unknown language 'xx'.*es/],
    ['an unknown scenario', { ...TURN, scenario: 'space_travel' }, /scenario.*unknown scenario 'space_travel'/],
    ['an unknown difficulty', { ...TURN, difficulty: 'expert' }, /difficulty.*unknown difficulty 'expert'.*beginner/],
    ['a blank message', { ...TURN, message: '   ' }, /message.*must not be empty/],
    ['a 2001-character message', { ...TURN, message: 'a'.repeat(2001) }, /message.*at most 2000/],
    ['no message', { ...TURN, message: undefined }, /message.*required/],
    ['a session id that is a path', { ...TURN, session_id: '../etc/passwd' }, /session_id/],
    ['a history entry with an unknown role', { ...TURN, history: [{ role: 'wizard', content: 'x' }] }, /history\.0\.role/],
  ])('rejects %s with 400 and a message that says what to fix', async (_what, body, message) => {
    for (const route of ['text', 'text-stream']) {
      const res = await postJson(`${gateway.url}/api/conversation/${route}`, body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual(expect.objectContaining({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(message) }));
    }
  });

  it('answers 429 with Retry-After once a client exceeds the request rate', async () => {
    const limited = await startTestGateway(nats.url, { rateLimitPerMinute: 3 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await postJson(`${limited.url}/api/conversation/text`, { message: '' })).status);
      expect(statuses).toEqual([400, 400, 400, 429]);
      const res = await fetch(`${limited.url}/api/conversation/text`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await res.json()).toEqual(expect.objectContaining({ statusCode: 429, error: 'Too Many Requests', message: expect.stringMatching(/at most 3 per minute/) }));
      // Reading is never limited.
      expect((await getJson(`${limited.url}/api/health/languages`)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('rejects a body that is not JSON with 400', async () => {
    const res = await postJson(`${gateway.url}/api/conversation/text`, '{"message": ');
    expect(res.status).toBe(400);
  });

  it('reports the llm model loaded, the others unavailable, and readiness accordingly', async () => {
    const models = await getJson(`${gateway.url}/api/health/models`);
    expect(models.body).toEqual({ status: 'degraded', models: { stt: 'unavailable', llm: 'loaded', tts: 'unavailable' } });
    const ready = await getJson(`${gateway.url}/api/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body.models.llm).toBe('loaded');
  });

  it('serves the catalog of 18 languages and 9 scenarios', async () => {
    const languages = await getJson(`${gateway.url}/api/health/languages`);
    expect(languages.body.count).toBe(18);
    expect(languages.body.languages.es).toEqual({ name: 'Spanish', tts_voices: expect.any(Array) });
    const scenarios = await getJson(`${gateway.url}/api/health/scenarios`);
    expect(scenarios.body.count).toBe(9);
    expect(scenarios.body.scenarios.greeting).toBe('Practice basic greetings and introductions');
    expect((await getJson(`${gateway.url}/api/health`)).body).toEqual({ status: 'healthy', message: expect.any(String), demo: false });
  });

  it('exposes Prometheus metrics on the gateway', async () => {
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(text).toMatch(/parley_request_duration_seconds_count\{[^}]*operation="POST \/api\/conversation\/text"/);
    expect(text).toMatch(/process_cpu_user_seconds_total/);
  });
});
