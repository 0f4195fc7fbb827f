import { Body, Controller, HttpCode, Inject, Post, Res, UploadedFile, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import type { Response } from 'express';
import { audioTranscriptionRequestSchema, ParleyError } from '@parley/contracts';
import { detectContainer } from '@parley/service-kit';
import { lastValueWhileConnected } from '../http/while-connected.js';
import { AudioTranscriptionsUseCase } from './audio-transcriptions.use-case.js';
import { formatTranscript } from './transcript-formats.js';
import { parseRequestBody } from '../http/request-body.js';

/** POST /v1/audio/transcriptions: multipart `file` (+ model, language, response_format...). */
@Controller('v1')
export class AudioTranscriptionsHttpController {
  constructor(@Inject(AudioTranscriptionsUseCase) private readonly transcriptions: AudioTranscriptionsUseCase) {}

  @Post('audio/transcriptions')
  @HttpCode(200)
  @UseInterceptors(FileInterceptor('file'))
  async create(
    @UploadedFile() file: { buffer: Buffer } | undefined,
    @Body() body: unknown,
    @Res() res: Response,
  ): Promise<void> {
    const request = parseRequestBody(audioTranscriptionRequestSchema, body);
    if (!file)
      throw new ParleyError('INVALID_REQUEST', "the recording is missing: send it as the multipart file field 'file'");
    detectContainer(file.buffer);
    const transcript = await lastValueWhileConnected(res, this.transcriptions.transcribe(file.buffer, request));
    const answer = formatTranscript(transcript, request.response_format);
    if ('json' in answer) res.status(200).json(answer.json);
    else res.status(200).type(answer.contentType).send(answer.text);
  }
}
