import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startNatsServer, type TestNatsServer } from '@parley/service-kit/testing';
import { refuseUpgrade } from '../src/edge/edge.middleware.js';
import { OriginPolicy } from '../src/edge/origin-policy.js';
import { postEmptyMessage, startEdgeGateway, type TestGateway } from './edge-support.js';

describe('the origin policy', () => {
  const policy = new OriginPolicy(['https://tutor.example.com']);

  it.each([
    ['no Origin (not a browser page)', undefined],
    ['localhost on any port', 'http://localhost:5173'],
    ['127.0.0.1 on any port', 'https://127.0.0.1:8443'],
    ["the page's own origin", 'https://parley.lan:8000'],
    ['a listed origin', 'https://tutor.example.com'],
  ])('allows %s', (_what, origin) => {
    expect(policy.allows(origin, ['parley.lan:8000'])).toBe(true);
  });

  it.each([
    ['another site', 'https://evil.example'],
    ['a listed host on another scheme', 'http://tutor.example.com'],
    ['a look-alike host', 'https://localhost.evil.example'],
    ['the opaque origin of a sandboxed frame or file', 'null'],
    ['a non-web scheme', 'chrome-extension://abcdef'],
  ])('refuses %s', (_what, origin) => {
    expect(policy.allows(origin, ['parley.lan:8000'])).toBe(false);
  });

  it('allows every origin when CORS_ORIGINS lists *', () => {
    expect(new OriginPolicy(['*']).allows('https://anywhere.example', [])).toBe(true);
  });

  it('refuses to start on an entry that is not an origin', () => {
    expect(() => new OriginPolicy(['tutor.example.com'])).toThrow(/CORS_ORIGINS entry 'tutor.example.com' is not an origin/);
  });
});

describe('the browser-facing edge of a running gateway', () => {
  let nats: TestNatsServer;
  let gateway: TestGateway;

  beforeAll(async () => {
    nats = await startNatsServer();
    gateway = await startEdgeGateway(nats.url, { corsOrigins: ['https://tutor.example.com'] });
  });

  afterAll(async () => {
    await gateway?.close();
    await nats?.stop();
  });

  it('sends security headers and a Content-Security-Policy, and no framework banner', async () => {
    for (const path of ['/', '/api/health', '/api/conversation/text']) {
      const res = await fetch(`${gateway.url}${path}`);
      expect(res.headers.get('x-powered-by')).toBeNull();
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).toContain("frame-ancestors 'self'");
      expect(csp).not.toContain('upgrade-insecure-requests');
    }
  });

  it('answers CORS for an allowed origin and exposes the rate-limit headers', async () => {
    const preflight = await fetch(`${gateway.url}/api/conversation/text-stream`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://tutor.example.com', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://tutor.example.com');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type,authorization');
    const res = await postEmptyMessage(gateway.url, { Origin: 'http://localhost:3000' });
    expect(res.status).toBe(400);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect(res.headers.get('access-control-expose-headers')).toContain('Retry-After');
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('gives another origin no CORS answer and refuses its requests with 403 before any work', async () => {
    const preflight = await fetch(`${gateway.url}/api/conversation/text-stream`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    // A form POST needs no preflight: the browser would send it, so the gateway refuses it.
    const res = await postEmptyMessage(gateway.url, { Origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(await res.json()).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'requests from the web origin https://evil.example are not allowed; add it to CORS_ORIGINS to allow it',
      code: 'FORBIDDEN',
    });
    expect((await fetch(`${gateway.url}/v1/models`, { headers: { Origin: 'https://evil.example' } })).status).toBe(403);
  });

  it("allows the page's own origin as the browser sends it", async () => {
    const own = new URL(gateway.url);
    const res = await postEmptyMessage(gateway.url, { Origin: `http://${own.host}` });
    expect(res.status).toBe(400);
  });
});

describe('a refused WebSocket upgrade', () => {
  let server: Server;

  beforeAll(async () => {
    server = createServer();
    server.on('upgrade', (req, socket) => refuseUpgrade(socket, req.url ?? '/', { status: 403, code: 'FORBIDDEN', message: 'origin not allowed' }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('gets the HTTP error in its route family shape before any upgrade', async () => {
    const { port } = server.address() as AddressInfo;
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ port, host: '127.0.0.1', path: '/v1/realtime', headers: { Connection: 'Upgrade', Upgrade: 'websocket' } });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('error', reject);
      req.end();
    });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({ error: { message: 'origin not allowed', type: 'invalid_request_error', param: null, code: 'forbidden' } });
  });
});
