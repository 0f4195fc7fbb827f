import { z } from 'zod';
import { liveQuerySchema } from './live.js';

/**
 * Client events of `GET /v1/realtime`, the subset of OpenAI's Realtime API that Parley speaks
 * (docs/openai.md, "Realtime"), in the GA shapes and, for `session.update`, the beta shape too.
 * Unknown fields are ignored (the SDKs add new ones over time); fields Parley cannot honour with
 * a value other than their default are refused by name (an `error` event).
 */

/** Audio on the wire: PCM 16-bit little-endian mono at 24 kHz, base64 in JSON. */
export const REALTIME_SAMPLE_RATE = 24_000;
/** Largest client message; a bigger one closes the socket with 1009 (as the live socket). */
export const REALTIME_MAX_MESSAGE_BYTES = 1024 * 1024;

const eventId = z.string().max(200).optional();

/** GA `audio/pcm` (24 kHz only); `audio/pcmu` and `audio/pcma` are not supported. */
const gaAudioFormat = z.object({
  type: z.literal('audio/pcm', { error: 'only audio/pcm (PCM16, 24 kHz) is supported' }),
  rate: z.literal(REALTIME_SAMPLE_RATE, { error: 'only 24000 Hz is supported' }).optional(),
});
/** Beta's `input_audio_format` / `output_audio_format`. */
const betaAudioFormat = z.literal('pcm16', { error: "only 'pcm16' (24 kHz) is supported" });

const transcription = z
  .object({
    model: z.string().max(200).optional(),
    /** The language spoken (a catalog code): it is the conversation's language too. */
    language: z.string().max(20).optional(),
    prompt: z.string().max(2000).optional(),
  })
  .nullable();

/** `null`: no detection, the client commits (push-to-talk). */
const turnDetection = z
  .object({
    type: z.enum(['server_vad', 'semantic_vad']),
    threshold: z.number().min(0).max(1).optional(),
    silence_duration_ms: z.number().int().min(0).max(10_000).optional(),
    prefix_padding_ms: z.number().int().min(0).max(10_000).optional(),
    create_response: z.boolean().optional(),
    interrupt_response: z.boolean().optional(),
    idle_timeout_ms: z.number().int().nullable().optional(),
    eagerness: z.enum(['low', 'medium', 'high', 'auto']).optional(),
  })
  .nullable();

const voice = z.union([z.string().max(100), z.object({ id: z.string().max(100) }).transform((v) => v.id)]);
const instructions = z.string().max(20_000);
const noTools = z.array(z.unknown()).max(0, { error: 'tools are not supported by this server' }).optional();

/** GA: `{type: "realtime", instructions, audio: {input: {...}, output: {...}}}`. */
export const realtimeGaSessionSchema = z.object({
  type: z.literal('realtime'),
  model: z.string().max(200).optional(),
  instructions: instructions.optional(),
  output_modalities: z.array(z.enum(['audio', 'text'])).optional(),
  audio: z
    .object({
      input: z
        .object({
          format: gaAudioFormat.optional(),
          transcription: transcription.optional(),
          turn_detection: turnDetection.optional(),
          noise_reduction: z.unknown().optional(),
        })
        .optional(),
      output: z.object({ format: gaAudioFormat.optional(), voice: voice.optional(), speed: z.number().min(0.25).max(4).optional() }).optional(),
    })
    .optional(),
  tools: noTools,
});

/** Beta: `{modalities, instructions, voice, input_audio_format, input_audio_transcription, turn_detection}`. */
export const realtimeBetaSessionSchema = z.object({
  model: z.string().max(200).optional(),
  modalities: z.array(z.enum(['audio', 'text'])).optional(),
  instructions: instructions.optional(),
  voice: voice.optional(),
  input_audio_format: betaAudioFormat.optional(),
  output_audio_format: betaAudioFormat.optional(),
  input_audio_transcription: transcription.optional(),
  turn_detection: turnDetection.optional(),
  speed: z.number().min(0.25).max(4).optional(),
  temperature: z.number().optional(),
  tools: noTools,
});

/** The session of `session.update`: GA when `type` is `realtime`, beta when there is no `type`. */
const sessionSchema = z.unknown().transform((value, context) => {
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  if (type !== undefined && type !== 'realtime') {
    context.addIssue({ code: 'custom', path: ['type'], message: `only "realtime" sessions are supported (got ${JSON.stringify(type)})` });
    return z.NEVER;
  }
  const schema = type === 'realtime' ? realtimeGaSessionSchema : realtimeBetaSessionSchema;
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) context.addIssue({ ...issue, code: 'custom', message: issue.message } as never);
    return z.NEVER;
  }
  return type === 'realtime'
    ? ({ shape: 'ga', ...(parsed.data as z.infer<typeof realtimeGaSessionSchema>) } as const)
    : ({ shape: 'beta', ...(parsed.data as z.infer<typeof realtimeBetaSessionSchema>) } as const);
});

const userTextItem = z.object({
  id: z.string().max(100).optional(),
  type: z.literal('message', { error: 'only message items are supported' }),
  role: z.literal('user', { error: 'only user messages can be created' }),
  content: z
    .array(z.object({ type: z.enum(['input_text', 'text'], { error: 'only input_text content is supported' }), text: z.string().min(1).max(4000) }))
    .min(1),
});

export const realtimeClientEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('session.update'), event_id: eventId, session: sessionSchema }),
  z.object({ type: z.literal('input_audio_buffer.append'), event_id: eventId, audio: z.string() }),
  z.object({ type: z.literal('input_audio_buffer.commit'), event_id: eventId }),
  z.object({ type: z.literal('input_audio_buffer.clear'), event_id: eventId }),
  z.object({ type: z.literal('conversation.item.create'), event_id: eventId, previous_item_id: z.string().nullable().optional(), item: userTextItem }),
  z.object({
    type: z.literal('response.create'),
    event_id: eventId,
    response: z.object({ instructions: instructions.optional(), tools: noTools }).optional(),
  }),
  z.object({ type: z.literal('response.cancel'), event_id: eventId, response_id: z.string().max(100).optional() }),
]);
export type RealtimeClientEvent = z.infer<typeof realtimeClientEventSchema>;
export type RealtimeSessionUpdate = Extract<RealtimeClientEvent, { type: 'session.update' }>['session'];

/** The client event types Parley understands (an unknown one is answered with an `error` event). */
export const REALTIME_CLIENT_EVENT_TYPES = realtimeClientEventSchema.options.map((option) => option.shape.type.value);

/** Query of the upgrade: OpenAI's `model` (any name), and the live socket's conversation settings. */
export const realtimeQuerySchema = liveQuerySchema.extend({ model: z.string().max(200).optional() });
export type RealtimeQuery = z.infer<typeof realtimeQuerySchema>;
