import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { NatsConnection } from '@nats-io/transport-node';
import { LIVE_SUBJECTS, liveOpenRequestSchema, type LiveEvent, type StreamHeartbeat } from '@parley/contracts';
import { handleStreamRequest, NATS_CONNECTION } from '@parley/service-kit';
import type { Observable } from 'rxjs';
import type { SttServiceConfig } from '../config.js';
import { STT_CONFIG } from '../tokens.js';
import { LiveTranscriptionUseCase } from './live-transcription.use-case.js';

@Controller()
export class LiveMessageController {
  constructor(
    @Inject(LiveTranscriptionUseCase) private readonly live: LiveTranscriptionUseCase,
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Inject(STT_CONFIG) private readonly config: SttServiceConfig,
  ) {}

  /** A live stream: events on the reply stream for as long as it lasts (queue group: any replica may own it). */
  @MessagePattern(LIVE_SUBJECTS.open)
  open(@Payload() payload: unknown): Observable<LiveEvent | StreamHeartbeat> {
    return handleStreamRequest(
      this.nats,
      payload,
      { service: 'stt', schema: liveOpenRequestSchema, what: 'live stream request', maxDurationMs: this.config.live.maxStreamMs },
      (request) => this.live.open(request),
    );
  }
}
