import { Controller, Get, Inject } from '@nestjs/common';
import type { VoicesHttpResponse } from '@parley/contracts';
import { TtsVoicesClient } from './tts-voices.client.js';
import { voicesByLanguage } from './voices.js';

@Controller('api/conversation')
export class VoicesHttpController {
  constructor(@Inject(TtsVoicesClient) private readonly tts: TtsVoicesClient) {}

  /** GET /api/conversation/voices: the voices each language can be spoken with, loaded ones first. */
  @Get('voices')
  async voices(): Promise<VoicesHttpResponse> {
    const reply = await this.tts.residentVoices();
    return voicesByLanguage(reply?.voices ?? []);
  }
}
