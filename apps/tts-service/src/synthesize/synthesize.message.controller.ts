import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { NatsConnection } from '@nats-io/transport-node';
import { parsePayload, serveCancellable, SUBJECTS, synthesizeRequestSchema, type SynthesizeStreamMessage } from '@parley/contracts';
import { NATS_CONNECTION, streamRpc } from '@parley/service-kit';
import { defer, type Observable } from 'rxjs';
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
  stream(@Payload() payload: unknown): Observable<SynthesizeStreamMessage> {
    return streamRpc(
      defer(() => {
        const request = parsePayload(synthesizeRequestSchema, payload, 'synthesize request');
        return serveCancellable(this.nats, this.synthesis.stream(request), {
          service: 'tts',
          requestId: request.request_id,
          maxDurationMs: this.config.maxRequestMs,
        });
      }),
    );
  }
}
