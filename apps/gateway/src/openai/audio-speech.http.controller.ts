import { Body, Controller, Inject, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { audioSpeechRequestSchema, ParleyError } from '@parley/contracts';
import { trackedUntilShutdown } from '../shutdown/gateway-drain.js';
import { AudioSpeechUseCase } from './audio-speech.use-case.js';
import { parseRequestBody } from '../http/request-body.js';

/** POST /v1/audio/speech: the speech of `input`, written as it is synthesized (wav, raw pcm, mp3, opus, aac, flac). */
@Controller('v1')
export class AudioSpeechHttpController {
  constructor(@Inject(AudioSpeechUseCase) private readonly speech: AudioSpeechUseCase) {}

  @Post('audio/speech')
  async create(@Body() body: unknown, @Res() res: Response): Promise<void> {
    const request = parseRequestBody(audioSpeechRequestSchema, body);
    // Waited for by a replica shutting down (and cut past its grace period).
    const audio = trackedUntilShutdown(res, this.speech.synthesize(request));
    await new Promise<void>((resolve, reject) => {
      let started = false;
      const subscription = audio.subscribe({
        next: (piece) => {
          if (!started) {
            started = true;
            res.status(200).type(piece.contentType);
            if (piece.sampleRate) res.setHeader('X-Sample-Rate', String(piece.sampleRate));
          }
          res.write(piece.bytes);
        },
        error: (error: unknown) => {
          // Before the first byte the error is an answer; after it, only a cut connection can say so.
          if (!started) return reject(ParleyError.from(error));
          res.destroy();
          resolve();
        },
        complete: () => {
          if (!started) return reject(new ParleyError('INTERNAL', 'the synthesis produced no audio'));
          res.end();
          resolve();
        },
      });
      res.on('close', () => {
        if (!res.writableFinished) subscription.unsubscribe();
        resolve();
      });
    });
  }
}
