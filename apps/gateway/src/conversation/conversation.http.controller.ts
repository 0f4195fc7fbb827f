import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Res, UploadedFile, UseInterceptors } from '@nestjs/common';
import { FileInterceptor, NoFilesInterceptor } from '@nestjs/platform-express';
import type { Response } from 'express';
import {
  ParleyError,
  parsePayload,
  sessionIdSchema,
  speakRequestSchema,
  synthesizeHttpRequestSchema,
  detectContainer,
  transcribeHttpRequestSchema,
  textTurnRequestSchema,
  type SseEvent,
} from '@parley/contracts';
import { from, toArray, type Observable } from 'rxjs';
import { lastValueWhileConnected } from '../http/while-connected.js';
import { writeSse } from '../http/sse.js';
import { TurnMetrics } from '../http/turn-metrics.js';
import { SESSION_STORE, type SessionStore } from '../sessions/session-store.port.js';
import { TtsClient } from '../services/tts.client.js';
import { ConversationTurnUseCase } from './conversation-turn.use-case.js';

/** What multer (memory storage) hands over for the `audio` field. */
interface UploadedAudio {
  buffer: Buffer;
  size: number;
}

/**
 * The uploaded recording, checked before any work starts so that a caller's mistake is a plain
 * 4xx (400 missing or empty, 415 not audio; 413 comes from the upload limit), even on SSE routes.
 */
function uploadedAudio(file: UploadedAudio | undefined): Uint8Array {
  if (!file) throw new ParleyError('INVALID_REQUEST', "the recording is missing: send it as the multipart file field 'audio'");
  detectContainer(file.buffer);
  return file.buffer;
}

/** Runs a turn to its end for the blocking routes; a failed turn becomes an HTTP error. */
async function finalEvent(res: Response, events: Observable<SseEvent>): Promise<Extract<SseEvent, { event: 'complete' }>> {
  const last = await lastValueWhileConnected(res, events);
  if (last?.event === 'complete') return last;
  if (last?.event === 'error') throw new ParleyError(last.data.code, last.data.error);
  throw new ParleyError('INTERNAL', 'the turn ended without a result');
}

@Controller('api/conversation')
export class ConversationHttpController {
  constructor(
    @Inject(ConversationTurnUseCase) private readonly turns: ConversationTurnUseCase,
    @Inject(SESSION_STORE) private readonly sessions: SessionStore,
    @Inject(TtsClient) private readonly tts: TtsClient,
    @Inject(TurnMetrics) private readonly turnMetrics: TurnMetrics,
  ) {}

  @Post('text')
  @HttpCode(200)
  async text(@Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    const request = parsePayload(textTurnRequestSchema, body, 'request');
    const { data } = await finalEvent(res, this.turns.textTurn(request));
    return { response: data.full_response, language: data.language, session_id: data.session_id };
  }

  @Post('text-stream')
  textStream(@Body() body: unknown, @Res() res: Response): void {
    const request = parsePayload(textTurnRequestSchema, body, 'request');
    writeSse(res, this.turns.textTurn(request).pipe(this.turnMetrics.observe('text-stream')));
  }

  /** Form fields (multipart or urlencoded) or JSON: text, language, voice, speech_rate → audio/wav. */
  @Post('synthesize')
  @UseInterceptors(NoFilesInterceptor())
  async synthesize(@Body() body: unknown, @Res() res: Response): Promise<void> {
    const request = parsePayload(synthesizeHttpRequestSchema, body, 'request');
    // speech_rate is a duration scale (1.2 = 20% slower); the engine's speed is its inverse.
    const synthesis = this.tts.synthesizeWav(request.text, {
      language: request.language,
      voice: request.voice,
      speed: 1 / (request.speech_rate ?? 1),
    });
    const { wav } = await lastValueWhileConnected(res, synthesis);
    res.status(200).setHeader('Content-Type', 'audio/wav').setHeader('Content-Length', wav.byteLength).end(wav);
  }

  @Post('transcribe')
  @HttpCode(200)
  @UseInterceptors(FileInterceptor('audio'))
  async transcribe(@UploadedFile() file: UploadedAudio | undefined, @Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    const { language } = parsePayload(transcribeHttpRequestSchema, body, 'request');
    const audio = uploadedAudio(file);
    const result = await lastValueWhileConnected(res, this.turns.transcribe(audio, language));
    if (!result.text.trim()) throw new ParleyError('NO_SPEECH', 'no speech was recognised in the recording');
    return {
      text: result.text.trim(),
      language: result.language,
      language_probability: result.language_probability,
      segments: result.segments,
    };
  }

  @Post('speak')
  @HttpCode(200)
  @UseInterceptors(FileInterceptor('audio'))
  async speak(@UploadedFile() file: UploadedAudio | undefined, @Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    const request = parsePayload(speakRequestSchema, body, 'request');
    const events = await lastValueWhileConnected(res, this.turns.speakTurn(request, uploadedAudio(file)).pipe(toArray()));
    const transcription = events.find((e) => e.event === 'transcription');
    const { data } = await finalEvent(res, from(events));
    return {
      response: data.full_response,
      language: data.language,
      detected_language: transcription?.event === 'transcription' ? transcription.data.language : null,
      transcribed_text: transcription?.event === 'transcription' ? transcription.data.text : '',
      session_id: data.session_id,
    };
  }

  @Post('speak-stream')
  @UseInterceptors(FileInterceptor('audio'))
  speakStream(@UploadedFile() file: UploadedAudio | undefined, @Body() body: unknown, @Res() res: Response): void {
    const request = parsePayload(speakRequestSchema, body, 'request');
    writeSse(res, this.turns.speakTurn(request, uploadedAudio(file)).pipe(this.turnMetrics.observe('speak-stream')));
  }

  @Get('session/:id')
  async session(@Param('id') id: string) {
    const sessionId = parsePayload(sessionIdSchema, id, 'session id');
    const messages = await this.sessions.messages(sessionId);
    return { session_id: sessionId, messages, count: messages.length };
  }

  @Delete('session/:id')
  async clearSession(@Param('id') id: string) {
    const sessionId = parsePayload(sessionIdSchema, id, 'session id');
    await this.sessions.clear(sessionId);
    return { status: 'cleared', session_id: sessionId };
  }
}
