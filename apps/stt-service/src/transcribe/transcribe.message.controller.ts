import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { NatsConnection } from '@nats-io/transport-node';
import { parsePayload, serveCancellable, SUBJECTS, transcribeRequestSchema, type Transcription } from '@parley/contracts';
import { NATS_CONNECTION, streamRpc } from '@parley/service-kit';
import { defer, type Observable } from 'rxjs';
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
  transcribe(@Payload() payload: unknown): Observable<Transcription> {
    return streamRpc(
      defer(() => {
        const request = parsePayload(transcribeRequestSchema, payload, 'transcribe request');
        return serveCancellable(this.nats, this.transcriber.transcribe(request), {
          service: 'stt',
          requestId: request.request_id,
          maxDurationMs: this.config.maxRequestMs,
        });
      }),
    );
  }
}
