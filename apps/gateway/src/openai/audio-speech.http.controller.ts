import { Body, Controller, Inject, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { audioSpeechRequestSchema, ParleyError } from '@parley/contracts';
import { trackedUntilShutdown } from '../shutdown/gateway-drain.js';
import { AudioSpeechUseCase } from './audio-speech.use-case.js';
import { streamingWavHeader } from './streaming-wav.js';
import { parseRequestBody } from '../http/request-body.js';

/** POST /v1/audio/speech: the speech of `input`, written as it is synthesized (wav or raw pcm). */
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
        next: (message) => {
          if (message.type !== 'audio') return;
          if (!started) {
            started = true;
            res.status(200).setHeader('X-Sample-Rate', String(message.sample_rate));
            if (request.response_format === 'wav') res.type('audio/wav').write(streamingWavHeader(message.sample_rate));
            else res.type('audio/pcm');
          }
          res.write(message.pcm);
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
