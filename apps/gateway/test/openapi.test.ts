import type { NestExpressApplication } from '@nestjs/platform-express';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startNatsServer, type TestNatsServer } from '@parley/service-kit/testing';
import { upgradeOutcome } from './edge-support.js';
import { startTestGateway, type TestGateway } from './support.js';

/** The routes the running gateway's router really serves, as `METHOD /path/{param}`. */
function servedRoutes(app: NestExpressApplication): string[] {
  const router = (app.getHttpAdapter().getInstance() as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } }).router;
  return router.stack
    .filter((layer) => layer.route)
    .flatMap((layer) =>
      Object.keys(layer.route!.methods)
        .filter((method) => method !== '_all')
        .map((method) => `${method.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`),
    )
    // A middleware bound to one method (the stream cap) is a route layer too: count each route once.
    .filter((route, index, all) => all.indexOf(route) === index)
    .sort();
}

describe('the OpenAPI document', () => {
  let nats: TestNatsServer;
  let gateway: TestGateway;
  let document: Record<string, any>;

  beforeAll(async () => {
    nats = await startNatsServer();
    gateway = await startTestGateway(nats.url);
    const res = await fetch(`${gateway.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    document = (await res.json()) as Record<string, any>;
  });

  afterAll(async () => {
    await gateway?.close();
    await nats?.stop();
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    // The validator does catch a broken document.
    const broken = structuredClone(document);
    broken.paths['/api/health'].get.responses = { 200: { content: {} } };
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  /** `METHOD /path` of every documented operation, the WebSocket upgrades or the others. */
  const documentedRoutes = (websocket: boolean) =>
    Object.entries(document.paths as Record<string, Record<string, Record<string, unknown>>>)
      .flatMap(([path, methods]) => Object.entries(methods).filter(([, op]) => Boolean(op['x-websocket']) === websocket).map(([method]) => `${method.toUpperCase()} ${path}`))
      .sort();

  it('documents every route the gateway serves, and nothing more', () => {
    expect(documentedRoutes(false)).toEqual(servedRoutes(gateway.app as NestExpressApplication));
  });

  it('documents both WebSockets, and each documented one upgrades', async () => {
    expect(documentedRoutes(true)).toEqual(['GET /api/conversation/live', 'GET /v1/realtime']);
    for (const route of documentedRoutes(true)) {
      const path = route.split(' ')[1]!;
      const opened = (await upgradeOutcome(`${gateway.url.replace('http', 'ws')}${path}?language=en`)) === 'upgraded';
      expect({ route, opened }).toEqual({ route, opened: true });
    }
  });

  it('describes request bodies with the schemas the gateway validates with', () => {
    const text = document.paths['/api/conversation/text'].post.requestBody.content['application/json'].schema;
    expect(text.required).toEqual(['message']);
    expect(text.properties.message).toEqual(expect.objectContaining({ type: 'string', minLength: 1, maxLength: 2000 }));
    expect(text.properties.difficulty.default).toBe('beginner');
    const chat = document.paths['/v1/chat/completions'].post;
    expect(chat.requestBody.content['application/json'].schema.required).toEqual(['model', 'messages']);
    expect(chat.responses['401'].content['application/json'].schema.properties.error.required).toEqual(['message', 'type', 'param', 'code']);
    expect(document.paths['/api/health'].get.security).toBeUndefined();
  });

  it('is browsable at /api/docs, one entry per operation', async () => {
    const res = await fetch(`${gateway.url}/api/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await res.text();
    const operations = Object.values(document.paths as Record<string, object>).reduce((n: number, methods) => n + Object.keys(methods).length, 0);
    expect(page.match(/<details /g)).toHaveLength(operations);
    expect(page).toContain('<code>POST /v1/chat/completions</code>');
    expect(page).not.toMatch(/<script|style=/);
  });

  it('labels request metrics with the documented route, ids folded, anything else as other', async () => {
    await fetch(`${gateway.url}/api/conversation/session/abc123`);
    await fetch(`${gateway.url}/api/no-such-route`);
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/parley_request_duration_seconds_count\{[^}]*operation="GET \/api\/conversation\/session\/:id"/);
    expect(metrics).toMatch(/parley_request_duration_seconds_count\{[^}]*operation="GET other"/);
    expect(metrics).not.toContain('abc123');
  });
});
