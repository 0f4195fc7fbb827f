import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ParleyError, parsePayload, sessionIdSchema, textTurnRequestSchema, type SseEvent } from '@parley/contracts';
import { lastValueFrom, toArray, type Observable } from 'rxjs';
import { writeSse } from '../http/sse.js';
import { SESSION_STORE, type SessionStore } from '../sessions/session-store.port.js';
import { ConversationTurnUseCase } from './conversation-turn.use-case.js';

/** Runs a turn to its end for the blocking routes; a failed turn becomes an HTTP error. */
async function finalEvent(events: Observable<SseEvent>): Promise<Extract<SseEvent, { event: 'complete' }>> {
  const all = await lastValueFrom(events.pipe(toArray()));
  const last = all.at(-1);
  if (last?.event === 'complete') return last;
  if (last?.event === 'error') throw new ParleyError(last.data.code, last.data.error);
  throw new ParleyError('INTERNAL', 'the turn ended without a result');
}

@Controller('api/conversation')
export class ConversationHttpController {
  constructor(
    @Inject(ConversationTurnUseCase) private readonly turns: ConversationTurnUseCase,
    @Inject(SESSION_STORE) private readonly sessions: SessionStore,
  ) {}

  @Post('text')
  @HttpCode(200)
  async text(@Body() body: unknown) {
    const request = parsePayload(textTurnRequestSchema, body, 'request');
    const { data } = await finalEvent(this.turns.textTurn(request));
    return { response: data.full_response, language: data.language, session_id: data.session_id };
  }

  @Post('text-stream')
  textStream(@Body() body: unknown, @Res() res: Response): void {
    const request = parsePayload(textTurnRequestSchema, body, 'request');
    writeSse(res, this.turns.textTurn(request));
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
