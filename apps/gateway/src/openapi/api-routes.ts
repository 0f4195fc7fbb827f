import { z } from 'zod';
import {
  audioSpeechRequestSchema,
  audioTranscriptionJsonSchema,
  audioTranscriptionRequestSchema,
  audioTranscriptionVerboseSchema,
  chatCompletionChunkSchema,
  chatCompletionRequestSchema,
  chatCompletionResponseSchema,
  clearLearnerResponseSchema,
  clearSessionResponseSchema,
  learnerIdSchema,
  learnerProgressSchema,
  learnerVocabularyQuerySchema,
  learnerVocabularyResponseSchema,
  liveQuerySchema,
  livenessResponseSchema,
  readinessResponseSchema,
  gatewayHealthResponseSchema,
  languagesResponseSchema,
  modelsHealthResponseSchema,
  openAiModelListSchema,
  realtimeQuerySchema,
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
  tag: 'health' | 'conversation' | 'learners' | 'openai' | 'documentation';
  /** Behind PARLEY_API_KEYS when keys are configured. */
  secured: boolean;
  pathParams?: Record<string, Schema>;
  query?: z.ZodObject;
  json?: Schema;
  /** Multipart fields (and the file fields, sent as binary). */
  multipart?: { fields: z.ZodObject; files: string[] };
  /** Also accepted as a urlencoded form. */
  urlencoded?: Schema;
  /**
   * A WebSocket upgrade (GET with `Upgrade: websocket`), served by the socket adapter rather than the
   * HTTP router; documented as an operation whose success is 101 and marked `x-websocket`.
   */
  websocket?: { protocol: string };
  responses: Record<string, ResponseDoc>;
}

const TURN_EVENTS =
  'Server-Sent Events, `event: NAME` + `data: ONE-LINE-JSON`: start, transcription, response_start, response_chunk, audio, complete | error (exactly one, last). See API.md.';
const sse = { 'text/event-stream': { description: TURN_EVENTS } };
const wav = { 'audio/wav': { description: '16-bit PCM mono WAV' } };
const sessionId = { id: sessionIdSchema };
const learnerId = { id: learnerIdSchema };

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
    method: 'get', path: '/api/learners/{id}', summary: "A learner's progress: per language, vocabulary, recent corrections", tag: 'learners', secured: true, pathParams: learnerId,
    responses: { 200: { description: 'progress', json: learnerProgressSchema } },
  },
  {
    method: 'get', path: '/api/learners/{id}/vocabulary', summary: "A learner's words, as JSON or CSV (flash-card apps)", tag: 'learners', secured: true,
    pathParams: learnerId, query: learnerVocabularyQuerySchema,
    responses: { 200: { description: 'the words', json: learnerVocabularyResponseSchema, media: { 'text/csv': { description: 'format=csv: word,translation,language' } } } },
  },
  {
    method: 'delete', path: '/api/learners/{id}', summary: 'Forget a learner', tag: 'learners', secured: true, pathParams: learnerId,
    responses: { 200: { description: 'cleared', json: clearLearnerResponseSchema } },
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
    path: '/api/conversation/live',
    summary: 'Live conversation over a WebSocket: hands-free listening, partial transcripts, barge-in',
    tag: 'conversation',
    secured: true,
    query: liveQuerySchema,
    websocket: { protocol: 'binary PCM16 16 kHz frames and JSON messages in; `{"event","data"}` JSON out (API.md, "Live conversation")' },
    responses: { 101: { description: 'upgraded: the first message is `ready` with the session_id' } },
  },
  {
    method: 'get',
    path: '/v1/realtime',
    summary: 'A subset of the OpenAI Realtime API over a WebSocket (docs/openai.md)',
    tag: 'openai',
    secured: true,
    query: realtimeQuerySchema,
    websocket: { protocol: 'OpenAI Realtime client and server events (JSON); audio base64 PCM16 24 kHz' },
    responses: { 101: { description: 'upgraded: the first event is session.created' } },
  },
  { method: 'get', path: '/healthz', summary: 'Kubernetes liveness: the process answers', tag: 'health', secured: false, responses: { 200: { description: 'alive', json: livenessResponseSchema } } },
  {
    method: 'get', path: '/readyz', summary: 'Kubernetes readiness: the broker answers', tag: 'health', secured: false,
    responses: { 200: { description: 'ready', json: readinessResponseSchema }, 503: { description: 'not ready', json: readinessResponseSchema } },
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
