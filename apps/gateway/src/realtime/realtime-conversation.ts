import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import {
  describeIssues,
  LANGUAGE_CODES,
  LIVE_SAMPLE_RATE,
  REALTIME_SAMPLE_RATE,
  realtimeClientEventSchema,
  speechRateField,
  type LiveDetection,
  type RealtimeClientEvent,
  type RealtimeQuery,
  type RealtimeSessionUpdate,
} from '@parley/contracts';
import type { LiveBehaviour, LiveConversation, LiveSettings, SettingChanges } from '../live/live-conversation.js';
import { PcmResampler, resamplePcm } from './pcm-resampler.js';

/** What the adapter needs besides the core: the socket, and which voices exist. */
export interface RealtimePorts {
  /** Sends one server event (already JSON). */
  send(json: string): void;
  /** Voice ids the tts-service has loaded (undefined: unknown, none answered). */
  residentVoices(): Promise<string[] | undefined>;
}

/** OpenAI's built-in voice names: Parley has none of them, so they mean "the language's default voice". */
const OPENAI_VOICES = new Set(['alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse', 'marin', 'cedar']);
/** Audio per `response.output_audio.delta` (a sentence is split into pieces of at most this). */
const DELTA_MS = 500;

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url')}`;

type TurnDetection = { type: 'server_vad' | 'semantic_vad'; threshold?: number; silence_duration_ms?: number; prefix_padding_ms?: number; create_response: boolean };

interface Response {
  id: string;
  itemId: string;
  turnId: string;
  transcript: string;
  /** Set by response.cancel: why the core's `interrupted` is reported as cancelled. */
  reason: 'turn_detected' | 'client_cancelled';
}

/** A refusal of one client event: the OpenAI Realtime `error` event it is answered with. */
class RealtimeInputError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

/**
 * OpenAI's Realtime protocol (the subset in docs/openai.md) over the live conversation core:
 * client events become calls on the core (audio resampled 24 → 16 kHz), and the core's live
 * events (`speech_started`, `transcription`, `response_chunk`, `audio`, `complete`,
 * `interrupted`, `error`, each with its `turn_id`) become Realtime server events (audio
 * resampled from the voice's rate to 24 kHz). The core keeps every rule of a live turn.
 */
export class RealtimeConversation {
  readonly core: LiveConversation;
  private readonly logger = new Logger('realtime');
  private readonly sessionId = newId('sess');
  private readonly model: string;
  private instructions = '';
  private voice = 'alloy';
  private speed = 1;
  private language: string;
  /** null: manual commits (`turn_detection: null`). */
  private turnDetection: TurnDetection | null = { type: 'server_vad', create_response: true };
  private readonly input = new PcmResampler(REALTIME_SAMPLE_RATE, LIVE_SAMPLE_RATE);
  /** The user item of each core turn, and when its speech started (ms of input audio). */
  private readonly userItems = new Map<string, { id: string; startMs: number }>();
  private response?: Response;
  /** Typed user messages waiting for `response.create`. */
  private pendingText: string[] = [];
  private lastItemId: string | null = null;
  /** The client event being handled, and the last commit (its `no_speech` answer comes later). */
  private handling?: RealtimeClientEvent;
  private lastCommitEventId?: string;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    query: RealtimeQuery,
    createCore: (send: (event: string, data: object) => void, behaviour: LiveBehaviour) => LiveConversation,
    private readonly ports: RealtimePorts,
  ) {
    this.model = query.model ?? 'parley';
    this.language = query.language;
    this.voice = query.voice ?? 'alloy';
    this.core = createCore((event, data) => this.onCoreEvent(event, data as Record<string, unknown>), this.behaviour());
  }

  /** A text message from the client: one JSON client event. Handled in order, one at a time. */
  message(text: string): void {
    this.queue = this.queue
      .then(() => this.handle(text))
      .catch((error: unknown) => {
        // A fault of ours: said once, and the events after it are still handled.
        this.logger.error(`realtime event failed: ${String(error)}`);
        this.emitError({ type: 'server_error', code: 'internal', message: 'the event could not be handled', param: null, event_id: this.handling?.event_id ?? null });
      });
  }

  /** A binary message: not part of the protocol. */
  binary(): void {
    this.error(new RealtimeInputError('binary messages are not part of the Realtime protocol: send JSON events (audio as base64 in input_audio_buffer.append)', 'invalid_message'));
  }

  // ---- client events

  private async handle(text: string): Promise<void> {
    this.handling = undefined;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.error(new RealtimeInputError('a client event must be JSON: {"type": ..., ...}', 'invalid_json'));
    }
    const parsed = realtimeClientEventSchema.safeParse(json);
    if (!parsed.success) {
      const type = (json as { type?: unknown })?.type;
      const eventId = (json as { event_id?: unknown })?.event_id;
      const known = parsed.error.issues.some((issue) => issue.path[0] === 'type' && issue.code === 'invalid_union');
      const message = known
        ? `unknown or unsupported event type ${JSON.stringify(type)}; supported: ${CLIENT_EVENT_TYPES}`
        : `invalid ${String(type)}: ${describeIssues(parsed.error)}`;
      const param = known ? 'type' : parsed.error.issues[0]?.path.join('.') || null;
      return this.error(new RealtimeInputError(message, known ? 'unknown_event_type' : 'invalid_value', param), typeof eventId === 'string' ? eventId : undefined);
    }
    const event = parsed.data;
    this.handling = event;
    try {
      await this.apply(event);
    } catch (error) {
      if (!(error instanceof RealtimeInputError)) throw error;
      this.error(error, event.event_id);
    }
  }

  private async apply(event: RealtimeClientEvent): Promise<void> {
    switch (event.type) {
      case 'session.update':
        await this.updateSession(event.session);
        this.emit('session.updated', { session: this.sessionView() });
        return;
      case 'input_audio_buffer.append':
        return this.append(event.audio);
      case 'input_audio_buffer.commit':
        this.lastCommitEventId = event.event_id;
        this.core.commit();
        return;
      case 'input_audio_buffer.clear':
        this.core.clearInput();
        this.emit('input_audio_buffer.cleared', {});
        return;
      case 'conversation.item.create': {
        const text = event.item.content.map((part) => part.text).join(' ');
        const item = { id: event.item.id ?? newId('item'), type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text }] };
        this.pendingText.push(text);
        this.emit('conversation.item.added', { previous_item_id: this.lastItemId, item });
        this.emit('conversation.item.done', { previous_item_id: this.lastItemId, item });
        this.lastItemId = item.id;
        return;
      }
      case 'response.create': {
        if (this.response) throw new RealtimeInputError(`a response is in progress (${this.response.id}): cancel it or wait for response.done`, 'conversation_already_has_active_response');
        const text = this.pendingText.join(' ');
        const outcome = this.core.respond(text || undefined);
        if (outcome === 'busy') throw new RealtimeInputError('a response is already in progress: cancel it or wait for response.done', 'conversation_already_has_active_response');
        if (outcome === 'nothing') {
          throw new RealtimeInputError('nothing to respond to: commit some audio (input_audio_buffer.commit) or add a user message (conversation.item.create) first', 'response_create_empty');
        }
        this.pendingText = [];
        return;
      }
      case 'response.cancel': {
        const response = this.response;
        if (!response || (event.response_id && event.response_id !== response.id)) {
          throw new RealtimeInputError(event.response_id ? `no response ${event.response_id} is in progress` : 'no response is in progress', 'response_cancel_not_active', 'response_id');
        }
        response.reason = 'client_cancelled';
        this.core.cancelAnswer();
        return;
      }
    }
  }

  private append(base64: string): void {
    if (base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) {
      throw new RealtimeInputError('audio must be base64 (PCM16 little-endian, mono, 24 kHz)', 'invalid_value', 'audio');
    }
    const bytes = Buffer.from(base64, 'base64');
    if (bytes.byteLength % 2 !== 0) throw new RealtimeInputError('audio must be PCM 16-bit: an even number of bytes', 'invalid_value', 'audio');
    if (bytes.byteLength === 0) return;
    const samples = new Int16Array(bytes.byteLength / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
    const resampled = this.input.push(samples);
    if (resampled.length > 0) this.core.audio(new Uint8Array(resampled.buffer, resampled.byteOffset, resampled.byteLength));
  }

  private async updateSession(session: RealtimeSessionUpdate): Promise<void> {
    const ga = session.shape === 'ga' ? session : undefined;
    const beta = session.shape === 'beta' ? session : undefined;
    const modalities = ga?.output_modalities ?? beta?.modalities;
    if (modalities && !modalities.includes('audio')) {
      throw new RealtimeInputError('text-only responses are not supported: answers are always spoken (include "audio")', 'unsupported_value', ga ? 'session.output_modalities' : 'session.modalities');
    }
    const transcription = ga ? ga.audio?.input?.transcription : beta?.input_audio_transcription;
    const detection = ga ? ga.audio?.input?.turn_detection : beta?.turn_detection;
    const voice = ga ? ga.audio?.output?.voice : beta?.voice;
    const speed = ga ? ga.audio?.output?.speed : beta?.speed;
    const at = (ga: string, beta: string) => (session.shape === 'ga' ? ga : beta);

    // Everything is checked before anything changes: a refused update changes nothing.
    const language = transcription?.language?.toLowerCase();
    if (language !== undefined && !(LANGUAGE_CODES as readonly string[]).includes(language)) {
      throw new RealtimeInputError(`unknown language '${language}'; use one of: ${LANGUAGE_CODES.join(', ')}`, 'invalid_value', at('session.audio.input.transcription.language', 'session.input_audio_transcription.language'));
    }
    if (detection && detection.interrupt_response === false) {
      throw new RealtimeInputError('interrupt_response: false is not supported: speech always interrupts the answer in progress', 'unsupported_value', at('session.audio.input.turn_detection.interrupt_response', 'session.turn_detection.interrupt_response'));
    }
    if (voice !== undefined && !OPENAI_VOICES.has(voice)) {
      const resident = await this.ports.residentVoices();
      if (resident && !resident.includes(voice)) {
        throw new RealtimeInputError(`unknown voice '${voice}'; use one of: ${[...resident, ...OPENAI_VOICES].join(', ')} (OpenAI's names speak with the language's default voice)`, 'invalid_value', at('session.audio.output.voice', 'session.voice'));
      }
    }
    const speechRate = speed === undefined ? undefined : speechRateField.safeParse(1 / speed);
    if (speechRate && !speechRate.success) throw new RealtimeInputError('speed must be between 0.25 and 4', 'invalid_value', at('session.audio.output.speed', 'session.speed'));

    if (session.instructions !== undefined) this.instructions = session.instructions;
    if (voice !== undefined) this.voice = voice;
    if (speed !== undefined) this.speed = speed;
    if (language !== undefined) this.language = language;
    if (detection !== undefined) {
      this.turnDetection = detection && {
        type: detection.type,
        threshold: detection.threshold,
        silence_duration_ms: detection.silence_duration_ms,
        prefix_padding_ms: detection.prefix_padding_ms,
        create_response: detection.create_response ?? true,
      };
    }
    const settings: SettingChanges = {
      instructions: this.instructions,
      language: this.language as LiveSettings['language'],
      // A built-in name clears the voice (null): the language's default voice speaks.
      voice: OPENAI_VOICES.has(this.voice) ? null : this.voice,
      speech_rate: speechRate?.data,
    };
    this.core.configure(settings, this.behaviour());
  }

  /** The core's behaviour for the current session settings. */
  private behaviour(): LiveBehaviour {
    const vad = this.turnDetection;
    const detection: LiveDetection = vad
      ? {
          mode: 'vad',
          // Silero's probability threshold has the same meaning; the stt-service bounds it (0.05-0.95).
          ...(vad.threshold !== undefined ? { threshold: Math.min(0.95, Math.max(0.05, vad.threshold)) } : {}),
          ...(vad.silence_duration_ms !== undefined ? { min_silence_ms: Math.min(5000, Math.max(100, vad.silence_duration_ms)) } : {}),
        }
      : { mode: 'manual' };
    return { detection, autoRespond: vad?.create_response ?? false, completeAfterPlayback: false };
  }

  /** The session as `session.created`/`session.updated` show it (GA shape). */
  private sessionView() {
    const format = { type: 'audio/pcm', rate: REALTIME_SAMPLE_RATE };
    return {
      type: 'realtime',
      object: 'realtime.session',
      id: this.sessionId,
      model: this.model,
      output_modalities: ['audio'],
      instructions: this.instructions,
      tools: [],
      tool_choice: 'auto',
      max_output_tokens: 'inf',
      audio: {
        input: {
          format,
          transcription: { model: 'whisper', language: this.language },
          noise_reduction: null,
          turn_detection: this.turnDetection && {
            ...this.turnDetection,
            interrupt_response: true,
            idle_timeout_ms: null,
          },
        },
        output: { format, voice: this.voice, speed: this.speed },
      },
    };
  }

  // ---- core events → server events

  private onCoreEvent(event: string, data: Record<string, unknown>): void {
    const turnId = typeof data.turn_id === 'string' ? data.turn_id : undefined;
    switch (event) {
      case 'ready':
        this.emit('session.created', { session: this.sessionView() });
        return;
      case 'speech_started': {
        const item = { id: newId('item'), startMs: Number(data.at_ms) };
        this.userItems.set(turnId!, item);
        // Only recent turns can still send events.
        if (this.userItems.size > 64) this.userItems.delete(this.userItems.keys().next().value!);
        if (this.turnDetection) this.emit('input_audio_buffer.speech_started', { audio_start_ms: item.startMs, item_id: item.id });
        return;
      }
      case 'speech_stopped': {
        const item = this.userItems.get(turnId!);
        if (!item) return;
        if (this.turnDetection) this.emit('input_audio_buffer.speech_stopped', { audio_end_ms: Number(data.at_ms), item_id: item.id });
        this.emit('input_audio_buffer.committed', { previous_item_id: this.lastItemId, item_id: item.id });
        this.emit('conversation.item.added', {
          previous_item_id: this.lastItemId,
          item: { id: item.id, type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_audio', transcript: null }] },
        });
        this.lastItemId = item.id;
        (item as { endMs?: number }).endMs = Number(data.at_ms);
        return;
      }
      case 'transcription': {
        const item = this.userItems.get(turnId!) as { id: string; startMs: number; endMs?: number } | undefined;
        if (!item) return;
        this.emit('conversation.item.input_audio_transcription.completed', {
          item_id: item.id,
          content_index: 0,
          transcript: String(data.text),
          usage: { type: 'duration', seconds: Math.max(0, ((item.endMs ?? item.startMs) - item.startMs) / 1000) },
        });
        return;
      }
      case 'response_start': {
        const response: Response = { id: newId('resp'), itemId: newId('item'), turnId: turnId!, transcript: '', reason: 'turn_detected' };
        this.response = response;
        this.emit('response.created', { response: this.responseView(response, 'in_progress') });
        this.emit('response.output_item.added', { response_id: response.id, output_index: 0, item: this.assistantItem(response, 'in_progress') });
        return;
      }
      case 'response_chunk': {
        const response = this.responseOf(turnId);
        if (!response) return;
        response.transcript += String(data.chunk);
        this.emit('response.output_audio_transcript.delta', { ...this.partOf(response), delta: String(data.chunk) });
        return;
      }
      case 'audio': {
        const response = this.responseOf(turnId);
        if (!response) return;
        for (const delta of audioDeltas(String(data.audio), Number(data.sample_rate))) {
          this.emit('response.output_audio.delta', { ...this.partOf(response), delta });
        }
        return;
      }
      case 'complete': {
        const response = this.responseOf(turnId);
        if (!response) return;
        const transcript = typeof data.full_response === 'string' ? data.full_response : response.transcript;
        response.transcript = transcript;
        this.emit('response.output_audio.done', this.partOf(response));
        this.emit('response.output_audio_transcript.done', { ...this.partOf(response), transcript });
        this.emit('response.output_item.done', { response_id: response.id, output_index: 0, item: this.assistantItem(response, 'completed') });
        this.endResponse(response, 'completed');
        return;
      }
      case 'interrupted': {
        const response = this.responseOf(turnId);
        if (response) this.endResponse(response, 'cancelled', { type: 'cancelled', reason: response.reason });
        return;
      }
      case 'error':
        return this.onCoreError(turnId, String(data.code), String(data.error));
      default:
        return; // partial_transcription, feedback: not part of this subset
    }
  }

  private onCoreError(turnId: string | undefined, code: string, message: string): void {
    const response = this.responseOf(turnId);
    if (response) {
      this.endResponse(response, 'failed', { type: 'failed', error: { type: 'server_error', code: code.toLowerCase() } });
      this.emitError({ type: 'server_error', code: code.toLowerCase(), message, param: null, event_id: null });
      return;
    }
    const item = turnId ? this.userItems.get(turnId) : undefined;
    if (item) {
      // The utterance could not be transcribed (or held no words): no response comes for it.
      this.emit('conversation.item.input_audio_transcription.failed', {
        item_id: item.id,
        content_index: 0,
        error: { type: 'transcription_error', code: code.toLowerCase(), message, param: null },
      });
      return;
    }
    if (code === 'NO_SPEECH') {
      const eventId = this.lastCommitEventId;
      this.lastCommitEventId = undefined;
      this.emitError({ type: 'invalid_request_error', code: 'input_audio_buffer_commit_empty', message: `${message}: append audio before committing`, param: null, event_id: eventId ?? null });
      return;
    }
    this.emitError({ type: code === 'INVALID_REQUEST' ? 'invalid_request_error' : 'server_error', code: code.toLowerCase(), message, param: null, event_id: null });
  }

  private responseOf(turnId: string | undefined): Response | undefined {
    return this.response && this.response.turnId === turnId ? this.response : undefined;
  }

  private endResponse(response: Response, status: 'completed' | 'cancelled' | 'failed', details?: object): void {
    this.response = undefined;
    this.lastItemId = response.itemId;
    this.emit('response.done', { response: { ...this.responseView(response, status), ...(details ? { status_details: details } : {}) } });
  }

  private responseView(response: Response, status: string) {
    return {
      id: response.id,
      object: 'realtime.response',
      status,
      status_details: null,
      output: status === 'in_progress' ? [] : [this.assistantItem(response, status === 'completed' ? 'completed' : 'incomplete')],
      output_modalities: ['audio'],
      audio: { output: { format: { type: 'audio/pcm', rate: REALTIME_SAMPLE_RATE }, voice: this.voice } },
      conversation_id: this.sessionId,
      usage: null,
    };
  }

  private assistantItem(response: Response, status: string) {
    return {
      id: response.itemId,
      object: 'realtime.item',
      type: 'message',
      role: 'assistant',
      status,
      content: status === 'in_progress' ? [] : [{ type: 'output_audio', transcript: response.transcript }],
    };
  }

  private partOf(response: Response) {
    return { response_id: response.id, item_id: response.itemId, output_index: 0, content_index: 0 };
  }

  // ---- sending

  private emit(type: string, body: object): void {
    this.ports.send(JSON.stringify({ event_id: newId('event'), type, ...body }));
  }

  private emitError(error: { type: string; code: string; message: string; param: string | null; event_id: string | null }): void {
    this.emit('error', { error });
  }

  private error(error: RealtimeInputError, eventId = this.handling?.event_id): void {
    this.emitError({ type: 'invalid_request_error', code: error.code, message: error.message, param: error.param, event_id: eventId ?? null });
  }
}

const CLIENT_EVENT_TYPES = [
  'session.update',
  'input_audio_buffer.append',
  'input_audio_buffer.commit',
  'input_audio_buffer.clear',
  'conversation.item.create',
  'response.create',
  'response.cancel',
].join(', ');

/** A sentence's base64 WAV (PCM16 mono at `sampleRate`) as base64 PCM16 24 kHz pieces of at most DELTA_MS. */
function audioDeltas(wavBase64: string, sampleRate: number): string[] {
  const wav = Buffer.from(wavBase64, 'base64');
  const pcm = wavData(wav);
  const samples = new Int16Array(pcm.byteLength >> 1);
  for (let i = 0; i < samples.length; i++) samples[i] = pcm.readInt16LE(i * 2);
  const out = resamplePcm(samples, sampleRate, REALTIME_SAMPLE_RATE);
  const bytes = Buffer.alloc(out.length * 2);
  for (let i = 0; i < out.length; i++) bytes.writeInt16LE(out[i]!, i * 2);
  const piece = ((REALTIME_SAMPLE_RATE * DELTA_MS) / 1000) * 2;
  const deltas: string[] = [];
  for (let at = 0; at < bytes.byteLength; at += piece) deltas.push(bytes.subarray(at, at + piece).toString('base64'));
  return deltas;
}

/** The samples of a RIFF/WAVE file (its `data` chunk), or past a 44-byte header if the chunks cannot be read. */
function wavData(wav: Buffer): Buffer {
  if (wav.toString('ascii', 0, 4) === 'RIFF' && wav.toString('ascii', 8, 12) === 'WAVE') {
    let at = 12;
    while (at + 8 <= wav.byteLength) {
      const id = wav.toString('ascii', at, at + 4);
      const size = wav.readUInt32LE(at + 4);
      if (id === 'data') return wav.subarray(at + 8, Math.min(wav.byteLength, at + 8 + size));
      at += 8 + size + (size % 2);
    }
  }
  return wav.subarray(Math.min(44, wav.byteLength));
}
