import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { SUBJECTS, type TtsVoicesReply } from '@parley/contracts';
import { TTS_ENGINE, type TtsEngine } from '../engine/tts-engine.port.js';

/** Answers which voices this replica has loaded (for the gateway's GET /api/conversation/voices). */
@Controller()
export class VoicesMessageController {
  constructor(@Inject(TTS_ENGINE) private readonly engine: TtsEngine) {}

  @MessagePattern(SUBJECTS.tts.voices)
  voices(): TtsVoicesReply {
    return {
      voices: this.engine.voices().map((voice) => ({
        id: voice.id,
        languages: voice.languages,
        sample_rate: voice.sampleRate,
        speakers: voice.speakers,
      })),
      default_voice: this.engine.defaultVoice,
    };
  }
}
