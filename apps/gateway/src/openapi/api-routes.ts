import { z } from 'zod';
import {
  audioSpeechRequestSchema,
  audioTranscriptionJsonSchema,
  audioTranscriptionRequestSchema,
  audioTranscriptionVerboseSchema,
  chatCompletionChunkSchema,
  chatCompletionRequestSchema,
  chatCompletionResponseSchema,
  clearSessionResponseSchema,
  gatewayHealthResponseSchema,
  languagesResponseSchema,
  modelsHealthResponseSchema,
  openAiModelListSchema,
  scenariosResponseSchema,
  sessionIdSchema,
  sessionResponseSchema,
  speakRequestSchema,
  speakTurnResponseSchema,
  synthesizeHttpRequestSchema,
  textTurnRequestSchema,
  textTurnResponseSchema,
  transcribeHttpRequestSchema,
  transcribeHttpResponseSchema,
  voicesHttpResponseSchema,
} from '@parley/contracts';

type Schema = z.ZodType;

/** One answer of a route: JSON with a schema, or another media type (SSE, audio, text). */
export interface ResponseDoc {
  description: string;
  json?: Schema;
  /** Media type → what the body is (a schema of one event, or a plain description). */
  media?: Record<string, { schema?: Schema; description: string }>;
}

/** A route as documented: what it takes (validated by these same schemas) and what it answers. */
export interface RouteDoc {
  method: 'get' | 'post' | 'delete';
  /** OpenAPI path, `{param}` style. */
  path: string;
  summary: string;
  tag: 'health' | 'conversation' | 'openai' | 'documentation';
  /** Behind PARLEY_API_KEYS when keys are configured. */
  secured: boolean;
  pathParams?: Record<string, Schema>;
  json?: Schema;
  /** Multipart fields (and the file fields, sent as binary). */
  multipart?: { fields: z.ZodObject; files: string[] };
  /** Also accepted as a urlencoded form. */
  urlencoded?: Schema;
  responses: Record<string, ResponseDoc>;
}

const TURN_EVENTS =
  'Server-Sent Events, `event: NAME` + `data: ONE-LINE-JSON`: start, transcription, response_start, response_chunk, audio, complete | error (exactly one, last). See API.md.';
const sse = { 'text/event-stream': { description: TURN_EVENTS } };
const wav = { 'audio/wav': { description: '16-bit PCM mono WAV' } };
const sessionId = { id: sessionIdSchema };

/** Every route the gateway serves. The OpenAPI document is generated from this list, and a test checks it against the router. */
export const API_ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/health',
    summary: 'The gateway process is up',
    tag: 'health',
    secured: false,
    responses: { 200: { description: 'up', json: gatewayHealthResponseSchema } },
  },
  {
    method: 'get',
    path: '/api/health/models',
    summary: 'Model status of each service (asked over the broker, short timeout)',
    tag: 'health',
    secured: false,
    responses: { 200: { description: 'statuses', json: modelsHealthResponseSchema } },
  },
  {
    method: 'get',
    path: '/api/health/ready',
    summary: 'Readiness: 200 only when every model is loaded',
    tag: 'health',
    secured: false,
    responses: {
      200: { description: 'ready', json: modelsHealthResponseSchema },
      503: { description: 'not ready', json: modelsHealthResponseSchema },
    },
  },
  {
    method: 'get',
    path: '/api/health/languages',
    summary: 'The 18 languages and their catalog voices',
    tag: 'health',
    secured: false,
    responses: { 200: { description: 'languages', json: languagesResponseSchema } },
  },
  {
    method: 'get',
    path: '/api/health/scenarios',
    summary: 'The 9 scenarios',
    tag: 'health',
    secured: false,
    responses: { 200: { description: 'scenarios', json: scenariosResponseSchema } },
  },
  {
    method: 'get',
    path: '/api/conversation/voices',
    summary: 'The voices each language can be spoken with, loaded ones first',
    tag: 'conversation',
    secured: true,
    responses: { 200: { description: 'voices by language', json: voicesHttpResponseSchema } },
  },
  {
    method: 'post',
    path: '/api/conversation/text',
    summary: 'A typed turn, answered when complete',
    tag: 'conversation',
    secured: true,
    json: textTurnRequestSchema,
    responses: { 200: { description: 'the answer', json: textTurnResponseSchema } },
  },
  {
    method: 'post',
    path: '/api/conversation/text-stream',
    summary: 'A typed turn, streamed',
    tag: 'conversation',
    secured: true,
    json: textTurnRequestSchema,
    responses: { 200: { description: 'the turn as it happens', media: sse } },
  },
  {
    method: 'post',
    path: '/api/conversation/transcribe',
    summary: 'Speech to text',
    tag: 'conversation',
    secured: true,
    multipart: { fields: transcribeHttpRequestSchema, files: ['audio'] },
    responses: { 200: { description: 'the transcript', json: transcribeHttpResponseSchema } },
  },
  {
    method: 'post',
    path: '/api/conversation/synthesize',
    summary: 'Text to speech',
    tag: 'conversation',
    secured: true,
    json: synthesizeHttpRequestSchema,
    multipart: { fields: synthesizeHttpRequestSchema, files: [] },
    urlencoded: synthesizeHttpRequestSchema,
    responses: { 200: { description: 'the speech', media: wav } },
  },
  {
    method: 'post',
    path: '/api/conversation/speak',
    summary: 'A spoken turn, answered when complete',
    tag: 'conversation',
    secured: true,
    multipart: { fields: speakRequestSchema, files: ['audio'] },
    responses: { 200: { description: 'the answer', json: speakTurnResponseSchema } },
  },
  {
    method: 'post',
    path: '/api/conversation/speak-stream',
    summary: 'A spoken turn, streamed (with speech per sentence)',
    tag: 'conversation',
    secured: true,
    multipart: { fields: speakRequestSchema, files: ['audio'] },
    responses: { 200: { description: 'the turn as it happens', media: sse } },
  },
  {
    method: 'get',
    path: '/api/conversation/session/{id}',
    summary: "A session's stored messages",
    tag: 'conversation',
    secured: true,
    pathParams: sessionId,
    responses: { 200: { description: 'the session', json: sessionResponseSchema } },
  },
  {
    method: 'delete',
    path: '/api/conversation/session/{id}',
    summary: 'Forget a session',
    tag: 'conversation',
    secured: true,
    pathParams: sessionId,
    responses: { 200: { description: 'cleared', json: clearSessionResponseSchema } },
  },
  {
    method: 'get',
    path: '/v1/models',
    summary: 'The loaded model of each role, and each voice',
    tag: 'openai',
    secured: true,
    responses: { 200: { description: 'models', json: openAiModelListSchema } },
  },
  {
    method: 'post',
    path: '/v1/chat/completions',
    summary: 'Chat completion, whole or streamed (`stream: true`)',
    tag: 'openai',
    secured: true,
    json: chatCompletionRequestSchema,
    responses: {
      200: {
        description:
          'the completion; with `stream: true`, `chat.completion.chunk`s as `data:` lines, then `data: [DONE]`',
        json: chatCompletionResponseSchema,
        media: {
          'text/event-stream': { schema: chatCompletionChunkSchema, description: 'one `data:` line per chunk' },
        },
      },
    },
  },
  {
    method: 'post',
    path: '/v1/audio/transcriptions',
    summary: 'Speech to text in json, text, verbose_json, srt or vtt',
    tag: 'openai',
    secured: true,
    multipart: { fields: audioTranscriptionRequestSchema, files: ['file'] },
    responses: {
      200: {
        description: 'the transcript in the asked format',
        json: z.union([audioTranscriptionJsonSchema, audioTranscriptionVerboseSchema]),
        media: {
          'text/plain': { description: 'response_format=text' },
          'application/x-subrip': { description: 'response_format=srt' },
          'text/vtt': { description: 'response_format=vtt' },
        },
      },
    },
  },
  {
    method: 'post',
    path: '/v1/audio/speech',
    summary: 'Text to speech, streamed as it is synthesized',
    tag: 'openai',
    secured: true,
    json: audioSpeechRequestSchema,
    responses: {
      200: {
        description: 'the speech',
        media: {
          'audio/wav': { description: 'response_format=wav (streamed: the header gives no length)' },
          'audio/pcm': {
            description: 'response_format=pcm: raw 16-bit little-endian mono; the rate is in X-Sample-Rate',
          },
        },
      },
    },
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This document',
    tag: 'documentation',
    secured: false,
    responses: {
      200: { description: 'OpenAPI 3.1', media: { 'application/json': { description: 'OpenAPI 3.1 document' } } },
    },
  },
  {
    method: 'get',
    path: '/api/docs',
    summary: 'This document as a page',
    tag: 'documentation',
    secured: false,
    responses: {
      200: { description: 'HTML', media: { 'text/html': { description: 'the routes, their inputs and answers' } } },
    },
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics of the gateway',
    tag: 'documentation',
    secured: false,
    responses: {
      200: { description: 'text exposition', media: { 'text/plain': { description: 'Prometheus text format 0.0.4' } } },
    },
  },
];
