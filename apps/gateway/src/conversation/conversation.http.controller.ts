import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Res,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor, NoFilesInterceptor } from '@nestjs/platform-express';
import type { Response } from 'express';
import {
  ParleyError,
  parsePayload,
  sessionIdSchema,
  speakRequestSchema,
  synthesizeHttpRequestSchema,
  transcribeHttpRequestSchema,
  textTurnRequestSchema,
  type ClearSessionResponse,
  type SessionResponse,
  type SpeakTurnResponse,
  type TextTurnResponse,
  type TranscribeHttpResponse,
} from '@parley/contracts';
import { detectContainer } from '@parley/service-kit';
import { map } from 'rxjs';
import { lastValueWhileConnected } from '../http/while-connected.js';
import { writeSse } from '../http/sse.js';
import { TurnMetrics } from '../http/turn-metrics.js';
import { EdgeAccess } from '../edge/edge-access.js';
import { SESSION_STORE, type SessionStore } from '../sessions/session-store.port.js';
import { speechOptions } from '../speech/speech-options.js';
import { ConversationTurnUseCase } from './conversation-turn.use-case.js';
import { speakTurnResponse, textTurnResponse, transcribeResponse, turnResult } from './turn-answers.js';
import { SPEECH, type Speech } from './turn/ports.js';
import { parseRequestBody } from '../http/request-body.js';
import { TtsVoicesClient } from '../voices/tts-voices.client.js';
import { unknownVoiceError } from '../voices/voices.js';

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
  if (!file)
    throw new ParleyError('INVALID_REQUEST', "the recording is missing: send it as the multipart file field 'audio'");
  detectContainer(file.buffer);
  return file.buffer;
}

/** The HTTP transport of conversations: validates, calls the use case, writes its answer (SSE or JSON). */
@Controller('api/conversation')
export class ConversationHttpController {
  constructor(
    @Inject(ConversationTurnUseCase) private readonly turns: ConversationTurnUseCase,
    @Inject(SESSION_STORE) private readonly sessions: SessionStore,
    @Inject(SPEECH) private readonly speech: Speech,
    @Inject(TurnMetrics) private readonly turnMetrics: TurnMetrics,
    @Inject(EdgeAccess) private readonly edge: EdgeAccess,
    @Inject(TtsVoicesClient) private readonly voices: TtsVoicesClient,
  ) {}

  /** A streamed turn that will speak with a voice nobody has loaded is refused with a 400 before it starts. */
  private async checkVoice(voice: string | undefined): Promise<void> {
    if (voice === undefined) return;
    const error = unknownVoiceError(voice, (await this.voices.residentVoices())?.voices);
    if (error) throw error;
  }

  /** The caller's API key id: its learners live in their own space. */
  private learnerSpace(res: Response): string | undefined {
    return this.edge.clientOf(res.req)?.keyId;
  }

  @Post('text')
  @HttpCode(200)
  async text(@Body() body: unknown, @Res({ passthrough: true }) res: Response): Promise<TextTurnResponse> {
    const request = parseRequestBody(textTurnRequestSchema, body);
    const turn = this.turns.textTurn(request, { speak: false, learnerSpace: this.learnerSpace(res) });
    return lastValueWhileConnected(res, turnResult(turn).pipe(map(textTurnResponse)));
  }

  @Post('text-stream')
  async textStream(@Body() body: unknown, @Res() res: Response): Promise<void> {
    const request = parseRequestBody(textTurnRequestSchema, body);
    if (request.tts === true) await this.checkVoice(request.voice);
    writeSse(res, this.turns.textTurn(request, { speak: request.tts === true, learnerSpace: this.learnerSpace(res) }).pipe(this.turnMetrics.observe('text-stream')));
  }

  /** Form fields (multipart or urlencoded) or JSON: text, language, voice, speech_rate → audio/wav. */
  @Post('synthesize')
  @UseInterceptors(NoFilesInterceptor())
  async synthesize(@Body() body: unknown, @Res() res: Response): Promise<void> {
    const request = parseRequestBody(synthesizeHttpRequestSchema, body);
    const { wav } = await lastValueWhileConnected(res, this.speech.synthesize(request.text, speechOptions(request)));
    res.status(200).setHeader('Content-Type', 'audio/wav').setHeader('Content-Length', wav.byteLength).end(wav);
  }

  @Post('transcribe')
  @HttpCode(200)
  @UseInterceptors(FileInterceptor('audio'))
  async transcribe(
    @UploadedFile() file: UploadedAudio | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TranscribeHttpResponse> {
    const { language } = parseRequestBody(transcribeHttpRequestSchema, body);
    const audio = uploadedAudio(file);
    return lastValueWhileConnected(res, this.turns.transcribe(audio, language).pipe(map(transcribeResponse)));
  }

  @Post('speak')
  @HttpCode(200)
  @UseInterceptors(FileInterceptor('audio'))
  async speak(
    @UploadedFile() file: UploadedAudio | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SpeakTurnResponse> {
    const request = parseRequestBody(speakRequestSchema, body);
    // The JSON answer carries no audio: nothing is synthesized.
    const turn = this.turns.speakTurn(request, uploadedAudio(file), { speak: false, learnerSpace: this.learnerSpace(res) });
    return lastValueWhileConnected(res, turnResult(turn).pipe(map(speakTurnResponse)));
  }

  @Post('speak-stream')
  @UseInterceptors(FileInterceptor('audio'))
  async speakStream(@UploadedFile() file: UploadedAudio | undefined, @Body() body: unknown, @Res() res: Response): Promise<void> {
    const request = parseRequestBody(speakRequestSchema, body);
    const audio = uploadedAudio(file);
    await this.checkVoice(request.voice);
    writeSse(res, this.turns.speakTurn(request, audio, { speak: true, learnerSpace: this.learnerSpace(res) }).pipe(this.turnMetrics.observe('speak-stream')));
  }

  @Get('session/:id')
  async session(@Param('id') id: string): Promise<SessionResponse> {
    const sessionId = parsePayload(sessionIdSchema, id, 'session id');
    const messages = await this.sessions.messages(sessionId);
    return { session_id: sessionId, messages, count: messages.length };
  }

  @Delete('session/:id')
  async clearSession(@Param('id') id: string): Promise<ClearSessionResponse> {
    const sessionId = parsePayload(sessionIdSchema, id, 'session id');
    await this.sessions.clear(sessionId);
    return { status: 'cleared', session_id: sessionId };
  }
}
