import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { NatsConnection } from '@nats-io/transport-node';
import { SUBJECTS, synthesizeRequestSchema, type SynthesizeStreamMessage, type StreamHeartbeat } from '@parley/contracts';
import { handleStreamRequest, NATS_CONNECTION } from '@parley/service-kit';
import type { Observable } from 'rxjs';
import type { TtsServiceConfig } from '../config.js';
import { TTS_CONFIG } from '../tokens.js';
import { SynthesizeUseCase } from './synthesize.use-case.js';

@Controller()
export class SynthesizeMessageController {
  constructor(
    @Inject(SynthesizeUseCase) private readonly synthesis: SynthesizeUseCase,
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Inject(TTS_CONFIG) private readonly config: TtsServiceConfig,
  ) {}

  @MessagePattern(SUBJECTS.tts.synthesize)
  stream(@Payload() payload: unknown): Observable<SynthesizeStreamMessage | StreamHeartbeat> {
    return handleStreamRequest(
      this.nats,
      payload,
      { service: 'tts', schema: synthesizeRequestSchema, what: 'synthesize request', maxDurationMs: this.config.maxRequestMs },
      (request) => this.synthesis.stream(request),
    );
  }
}
