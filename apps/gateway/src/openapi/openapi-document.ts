import { z } from 'zod';
import { httpErrorResponseSchema, openAiErrorResponseSchema } from '@parley/contracts';
import { isOpenAiPath } from '../http/error-body.js';
import type { ResponseDoc, RouteDoc } from './api-routes.js';

type JsonSchema = Record<string, unknown>;

/** A zod schema as an OpenAPI 3.1 schema (JSON Schema 2020-12): requests as accepted (`input`), answers as sent. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as JsonSchema;
  return rest;
}

/** Multipart fields as arrive (strings and files). */
function multipartSchema(fields: z.ZodObject, files: string[]): JsonSchema {
  const schema = jsonSchema(fields, 'input');
  const properties = { ...(schema.properties as Record<string, JsonSchema>) };
  for (const file of files)
    properties[file] = {
      type: 'string',
      contentMediaType: 'application/octet-stream',
      description: 'the recording (WAV, webm/opus, ogg, mp3, m4a; detected from the bytes)',
    };
  return { ...schema, properties, required: [...((schema.required as string[]) ?? []), ...files] };
}

function content(response: ResponseDoc): Record<string, { schema: JsonSchema }> {
  const media: Record<string, { schema: JsonSchema }> = {};
  if (response.json) media['application/json'] = { schema: jsonSchema(response.json, 'output') };
  for (const [type, body] of Object.entries(response.media ?? {})) {
    media[type] = {
      schema: body.schema
        ? { ...jsonSchema(body.schema, 'output'), description: body.description }
        : { type: 'string', description: body.description },
    };
  }
  return media;
}

function parameters(route: RouteDoc) {
  const inPath = Object.entries(route.pathParams ?? {}).map(([name, schema]) => ({ name, in: 'path', required: true, schema: jsonSchema(schema, 'input') }));
  const query = route.query ? jsonSchema(route.query, 'input') : { properties: {} };
  const required = (query.required as string[] | undefined) ?? [];
  const inQuery = Object.entries(query.properties as Record<string, JsonSchema>).map(([name, schema]) => ({ name, in: 'query', required: required.includes(name), schema }));
  return [...inPath, ...inQuery];
}

function operation(route: RouteDoc) {
  const errorSchema = jsonSchema(
    isOpenAiPath(route.path) ? openAiErrorResponseSchema : httpErrorResponseSchema,
    'output',
  );
  const error = (description: string) => ({ description, content: { 'application/json': { schema: errorSchema } } });
  const requestContent: Record<string, { schema: JsonSchema }> = {};
  if (route.json) requestContent['application/json'] = { schema: jsonSchema(route.json, 'input') };
  if (route.multipart)
    requestContent['multipart/form-data'] = { schema: multipartSchema(route.multipart.fields, route.multipart.files) };
  if (route.urlencoded)
    requestContent['application/x-www-form-urlencoded'] = { schema: jsonSchema(route.urlencoded, 'input') };
  return {
    summary: route.summary,
    ...(route.websocket ? { description: `WebSocket: send \`Upgrade: websocket\`. Messages: ${route.websocket.protocol}.`, 'x-websocket': true } : {}),
    tags: [route.tag],
    operationId: `${route.method}${route.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    ...(route.pathParams || route.query ? { parameters: parameters(route) } : {}),
    ...(Object.keys(requestContent).length ? { requestBody: { required: true, content: requestContent } } : {}),
    responses: {
      ...Object.fromEntries(
        Object.entries(route.responses).map(([status, response]) => [
          status,
          { description: response.description, content: content(response) },
        ]),
      ),
      ...(route.secured ? { 401: error('no valid API key (when PARLEY_API_KEYS is set)') } : {}),
      ...(route.method === 'post'
        ? { 429: error('too many requests: see Retry-After and the RateLimit headers') }
        : {}),
      '4XX': error("the caller's mistake: the message says what to fix"),
      '5XX': error('a service is down, busy or timed out (503 with Retry-After when busy)'),
    },
    ...(route.secured ? { security: [{ bearer: [] }, { apiKeyQuery: [] }, {}] } : {}),
  };
}

/** The OpenAPI 3.1 document of `routes`, every schema generated from the zod schemas the gateway validates with. */
export function buildOpenApiDocument(routes: readonly RouteDoc[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) (paths[route.path] ??= {})[route.method] = operation(route);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Parley',
      version: '1',
      description:
        'A self-hosted voice conversation partner for language learners: the conversation API (SSE streams), ' +
        'health and catalog, and an OpenAI-compatible subset under /v1. With PARLEY_API_KEYS set, secured routes need ' +
        '`Authorization: Bearer <key>` (or `?api_key=`); the empty security requirement stands for a server without keys.',
    },
    tags: [
      { name: 'health', description: 'Liveness, readiness, catalog (never behind a key)' },
      { name: 'conversation', description: 'Conversation turns, speech, sessions' },
      { name: 'learners', description: 'Learner progress (with keys, scoped to the key)' },
      { name: 'openai', description: "OpenAI-compatible routes (errors in OpenAI's shape)" },
      { name: 'documentation', description: 'This document and the metrics' },
    ],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'one of PARLEY_API_KEYS' },
        apiKeyQuery: {
          type: 'apiKey',
          in: 'query',
          name: 'api_key',
          description: 'for WebSocket clients that cannot set headers',
        },
      },
    },
  };
}
