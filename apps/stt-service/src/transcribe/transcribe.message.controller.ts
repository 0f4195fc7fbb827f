import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { NatsConnection } from '@nats-io/transport-node';
import { SUBJECTS, transcribeRequestSchema, type Transcription, type StreamHeartbeat } from '@parley/contracts';
import { handleStreamRequest, NATS_CONNECTION } from '@parley/service-kit';
import type { Observable } from 'rxjs';
import type { SttServiceConfig } from '../config.js';
import { STT_CONFIG } from '../tokens.js';
import { TranscribeUseCase } from './transcribe.use-case.js';

@Controller()
export class TranscribeMessageController {
  constructor(
    @Inject(TranscribeUseCase) private readonly transcriber: TranscribeUseCase,
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Inject(STT_CONFIG) private readonly config: SttServiceConfig,
  ) {}

  /** One reply (a Transcription) on a stream, so the caller's streamRequest gives it cancel and timeouts. */
  @MessagePattern(SUBJECTS.stt.transcribe)
  transcribe(@Payload() payload: unknown): Observable<Transcription | StreamHeartbeat> {
    return handleStreamRequest(
      this.nats,
      payload,
      { service: 'stt', schema: transcribeRequestSchema, what: 'transcribe request', maxDurationMs: this.config.maxRequestMs },
      (request) => this.transcriber.transcribe(request),
    );
  }
}
