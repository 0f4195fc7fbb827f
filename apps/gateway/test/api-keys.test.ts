import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { ServiceMetrics } from '@parley/service-kit';
import { startNatsServer, type TestNatsServer } from '@parley/service-kit/testing';
import { ApiKeys, apiKeyId, presentedApiKey, redactUrl } from '../src/edge/api-keys.js';
import { EdgeAccess, isRefusal } from '../src/edge/edge-access.js';
import { loadEdgeConfig } from '../src/edge/edge-config.js';
import { postEmptyMessage, startEdgeGateway, type TestGateway } from './edge-support.js';

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');
const request = (url: string, headers: Record<string, string> = {}) => ({ url, headers, method: 'GET', socket: { remoteAddress: '127.0.0.1' } }) as unknown as IncomingMessage;

describe('API keys', () => {
  it('accepts a configured key, plain or given as its sha256, and nothing else', () => {
    const keys = new ApiKeys(['plain-key-123', `sha256:${sha256Hex('hashed-key-456')}`]);
    expect(keys.required).toBe(true);
    expect(keys.identify('plain-key-123')).toBe(apiKeyId('plain-key-123'));
    expect(keys.identify('hashed-key-456')).toBe(apiKeyId('hashed-key-456'));
    expect(keys.identify(`sha256:${sha256Hex('hashed-key-456')}`)).toBeUndefined();
    expect(keys.identify('plain-key-12')).toBeUndefined();
    expect(keys.identify('')).toBeUndefined();
  });

  it('requires nothing when no key is configured', () => {
    expect(new ApiKeys([]).required).toBe(false);
  });

  it('refuses to start on a sha256 entry that is not 64 hex digits', () => {
    expect(() => new ApiKeys(['sha256:abc'])).toThrow(/entry 1 starts with sha256: but is not 64 hex digits/);
  });

  it('reads the key from the Bearer header, else from ?api_key=, else from the openai-insecure-api-key subprotocol', () => {
    expect(presentedApiKey(request('/v1/models', { authorization: 'Bearer abc.def' }))).toBe('abc.def');
    expect(presentedApiKey(request('/api/conversation/live?language=es&api_key=k%2B1'))).toBe('k+1');
    expect(presentedApiKey(request('/api/conversation/live?api_key=from-query', { authorization: 'Bearer from-header' }))).toBe('from-header');
    expect(presentedApiKey(request('/api/conversation/live', { authorization: 'Basic Zm9vOmJhcg==' }))).toBeUndefined();
    expect(presentedApiKey(request('/v1/realtime', { 'sec-websocket-protocol': 'realtime, openai-insecure-api-key.sk-1' }))).toBe('sk-1');
    expect(presentedApiKey(request('/v1/realtime', { 'sec-websocket-protocol': 'realtime' }))).toBeUndefined();
  });

  it('redacts api_key from URLs', () => {
    expect(redactUrl('/api/conversation/live?language=es&api_key=secret&x=1')).toBe('/api/conversation/live?language=es&api_key=[redacted]&x=1');
    expect(redactUrl('/x?API_KEY=secret')).toBe('/x?API_KEY=[redacted]');
  });

  it('loads keys from PARLEY_API_KEYS and PARLEY_API_KEYS_FILE, one per line or comma-separated, with comments', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-keys-'));
    try {
      const file = join(dir, 'keys');
      await writeFile(file, `# team keys\nkey-from-file-1\n\nsha256:${sha256Hex('key-from-file-2')}  # ci\n`);
      const config = loadEdgeConfig({ PARLEY_API_KEYS: 'env-key-1, env-key-2', PARLEY_API_KEYS_FILE: file });
      expect(config.apiKeys).toEqual(['env-key-1', 'env-key-2', 'key-from-file-1', `sha256:${sha256Hex('key-from-file-2')}`]);
      await writeFile(file, '# nothing here\n');
      expect(() => loadEdgeConfig({ PARLEY_API_KEYS_FILE: file })).toThrow(/holds no key/);
      expect(() => loadEdgeConfig({ PARLEY_API_KEYS_FILE: join(dir, 'missing') })).toThrow(/cannot be read/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exposes the caller key id (never the key) on the request, for the WebSocket upgrade too', async () => {
    const edge = new EdgeAccess(
      { rateLimitPerMinute: 0, edge: { ...loadEdgeConfig({}), apiKeys: ['the-key'] } } as never,
      {} as never,
      new ServiceMetrics('gateway'),
    );
    const req = request('/api/conversation/live?api_key=the-key');
    const client = edge.authenticate(req);
    expect(isRefusal(client)).toBe(false);
    expect(edge.clientOf(req)).toEqual({ id: `key:${apiKeyId('the-key')}`, keyId: apiKeyId('the-key'), address: '127.0.0.1' });
    expect(JSON.stringify(edge.clientOf(req))).not.toContain('the-key');
    const admitted = await edge.admitUpgrade(request('/api/conversation/live', { authorization: 'Bearer the-key', origin: 'https://evil.example' }));
    expect(admitted).toEqual(expect.objectContaining({ status: 403, code: 'FORBIDDEN' }));
    expect(await edge.admitUpgrade(request('/api/conversation/live?api_key=wrong'))).toEqual(expect.objectContaining({ status: 401 }));
    const ok = await edge.admitUpgrade(request('/api/conversation/live?api_key=the-key'));
    expect(isRefusal(ok)).toBe(false);
  });
});

describe('a gateway with API keys', () => {
  const KEY = 'test-key-0123456789';
  let nats: TestNatsServer;
  let gateway: TestGateway;

  beforeAll(async () => {
    nats = await startNatsServer();
    // Text log lines go through process.stdout, where the log test below reads them (the JSON logger
    // writes to the file descriptor directly); the redacted message is the same in both formats.
    process.env.LOG_FORMAT = 'text';
    gateway = await startEdgeGateway(nats.url, { apiKeys: [KEY, `sha256:${sha256Hex('second-key')}`] });
    delete process.env.LOG_FORMAT;
  });

  afterAll(async () => {
    await gateway?.close();
    await nats?.stop();
  });

  it.each([
    ['POST', '/api/conversation/text'],
    ['GET', '/api/conversation/session/abc'],
    ['GET', '/api/conversation/voices'],
    ['GET', '/api/learners/someone'],
  ])('refuses %s %s without a key with 401 in the NestJS shape', async (method, path) => {
    const res = await fetch(`${gateway.url}${path}`, { method });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="parley"');
    expect(await res.json()).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: expect.stringMatching(/no API key was given: send it as the header 'Authorization: Bearer <key>'/),
      code: 'UNAUTHORIZED',
    });
  });

  it('refuses /v1 routes with 401 in the OpenAI shape', async () => {
    const res = await fetch(`${gateway.url}/v1/models`, { headers: { Authorization: 'Bearer wrong-key' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: { message: expect.stringMatching(/the API key is not valid/), type: 'authentication_error', param: null, code: 'invalid_api_key' },
    });
  });

  it('lets a request with a valid key (plain or configured as a hash) through, by header or query', async () => {
    expect((await postEmptyMessage(gateway.url, { Authorization: `Bearer ${KEY}` })).status).toBe(400);
    expect((await postEmptyMessage(gateway.url, { Authorization: 'Bearer second-key' })).status).toBe(400);
    const res = await fetch(`${gateway.url}/api/conversation/text?api_key=${KEY}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"message":""}',
    });
    expect(res.status).toBe(400);
  });

  it('keeps health and /metrics open', async () => {
    for (const path of ['/api/health', '/api/health/languages', '/api/health/scenarios', '/api/health/models', '/metrics']) {
      expect((await fetch(`${gateway.url}${path}`)).status).toBe(200);
    }
  });

  it('never writes a presented key to the log', async () => {
    const written: string[] = [];
    const capture = (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    };
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(capture as never);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(capture as never);
    try {
      await fetch(`${gateway.url}/api/conversation/session/abc?api_key=leaked-secret-1`);
      await fetch(`${gateway.url}/api/conversation/session/abc`, { headers: { Authorization: 'Bearer leaked-secret-2' } });
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    const log = written.join('');
    expect(log).toMatch(/refused GET \/api\/conversation\/session\/abc\?api_key=\[redacted\] from .*: the API key is not valid/);
    expect(log).not.toContain('leaked-secret');
  });
});
