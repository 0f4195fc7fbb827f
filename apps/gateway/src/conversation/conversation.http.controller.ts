import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Res, UseInterceptors } from '@nestjs/common';
import { NoFilesInterceptor } from '@nestjs/platform-express';
import type { Response } from 'express';
import {
  ParleyError,
  parsePayload,
  sessionIdSchema,
  synthesizeHttpRequestSchema,
  textTurnRequestSchema,
  type SseEvent,
} from '@parley/contracts';
import type { Observable } from 'rxjs';
import { lastValueWhileConnected } from '../http/while-connected.js';
import { writeSse } from '../http/sse.js';
import { SESSION_STORE, type SessionStore } from '../sessions/session-store.port.js';
import { TtsClient } from '../services/tts.client.js';
import { ConversationTurnUseCase } from './conversation-turn.use-case.js';

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
    writeSse(res, this.turns.textTurn(request));
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
