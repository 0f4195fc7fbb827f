import { startNatsServer, type TestNatsServer } from '@parley/service-kit/testing';
import { startTestGateway, type TestGateway } from './support.js';

const openAiError = (status: number, code: string, message: RegExp) => ({
  status,
  body: { error: { message: expect.stringMatching(message), type: status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code } },
});

/** Mistakes on /v1 are answered in OpenAI's error shape, whoever notices them (Parley, the framework, multer). */
describe('errors of the OpenAI-compatible routes', () => {
  let nats: TestNatsServer;
  let gateway: TestGateway;

  beforeAll(async () => {
    nats = await startNatsServer();
    gateway = await startTestGateway(nats.url, { uploadMaxBytes: 1000 });
  });

  afterAll(async () => {
    await gateway?.close();
    await nats?.stop();
  });

  const answer = async (res: Response) => ({ status: res.status, body: await res.json() });
  const postJson = (path: string, body: string) =>
    fetch(`${gateway.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body }).then(answer);

  it('answers a body that is not JSON with 400', async () => {
    expect(await postJson('/v1/chat/completions', '{"model":')).toEqual(openAiError(400, 'invalid_request', /JSON/));
  });

  it('answers an unknown /v1 route with 404', async () => {
    expect(await fetch(`${gateway.url}/v1/embeddings`, { method: 'POST' }).then(answer)).toEqual(openAiError(404, 'not_found', /Cannot POST \/v1\/embeddings/));
  });

  it('names the wrong field of a chat completion', async () => {
    expect(await postJson('/v1/chat/completions', JSON.stringify({ model: 'x', messages: [{ role: 'user', content: 'hi' }], temperature: 9 }))).toEqual(
      openAiError(400, 'invalid_request', /temperature/),
    );
    expect(await postJson('/v1/chat/completions', JSON.stringify({ model: 'x', messages: [{ role: 'user', content: 'hi' }], n: 2 }))).toEqual(
      openAiError(400, 'invalid_request', /only n=1 is supported/),
    );
  });

  it('answers an upload over the size limit with 413 and one that is not audio with 415', async () => {
    const form = (bytes?: Uint8Array) => {
      const data = new FormData();
      data.append('model', 'whisper-1');
      if (bytes) data.append('file', new Blob([bytes as Uint8Array<ArrayBuffer>]), 'speech.wav');
      return data;
    };
    const post = (data: FormData) => fetch(`${gateway.url}/v1/audio/transcriptions`, { method: 'POST', body: data }).then(answer);
    expect(await post(form(new Uint8Array(5000)))).toEqual(openAiError(413, 'payload_too_large', /too large/i));
    expect(await post(form(new TextEncoder().encode('this is not audio at all')))).toEqual(openAiError(415, 'unsupported_media', /audio/));
    expect(await post(form())).toEqual(
      openAiError(400, 'invalid_request', /the recording is missing: send it as the multipart file field 'file'/),
    );
  });

  it('keeps the NestJS shape outside /v1', async () => {
    const res = await fetch(`${gateway.url}/api/nothing`).then(answer);
    expect(res).toEqual({ status: 404, body: { statusCode: 404, error: 'Not Found', message: 'Cannot GET /api/nothing', code: 'NOT_FOUND' } });
  });
});
