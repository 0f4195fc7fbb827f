import type { NestExpressApplication } from '@nestjs/platform-express';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startNatsServer, type TestNatsServer } from '@parley/service-kit/testing';
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

  it('documents every route the gateway serves, and nothing more', () => {
    const documented = Object.entries(document.paths as Record<string, object>)
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    expect(documented).toEqual(servedRoutes(gateway.app as NestExpressApplication));
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
});
