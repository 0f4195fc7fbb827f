import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ObjectStore } from '@nats-io/obj';
import {
  AUDIO_BUCKET,
  ParleyError,
  parsePayload,
  SUBJECTS,
  transcribeRequestSchema,
  transcriptionSchema,
  type Transcription,
} from '@parley/contracts';
import {
  brokerStatus,
  NATS_CONNECTION,
  onBroker,
  openObjectStore,
  replyParser,
  streamRequest,
} from '@parley/service-kit';
import { defer, finalize, mergeMap, type Observable } from 'rxjs';
import type { GatewayConfig } from '../config.js';
import type { SpeechToText } from '../conversation/turn/ports.js';
import { GATEWAY_CONFIG } from '../tokens.js';
import { NATS_CLIENT, newRequestId } from './nats-client.js';

/**
 * The SpeechToText port over the stt-service. An upload can be larger than a NATS message (1 MB by
 * default), so its bytes go into a JetStream object store and the request names the object.
 */
@Injectable()
export class SttClient implements SpeechToText {
  private readonly logger = new Logger('stt-client');
  private store?: Promise<ObjectStore>;

  constructor(
    @Inject(NATS_CLIENT) private readonly client: ClientProxy,
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /**
   * Transcribes an upload; `language` is a catalog code as a hint, or `auto` (then in the likeliest
   * of `candidates`, when given). Unsubscribing cancels.
   */
  transcribe(audio: Uint8Array, language: string, candidates?: string[]): Observable<Transcription> {
    const objectName = newRequestId();
    const broker = brokerStatus(this.nats);
    return defer(() => onBroker(broker, async () => (await this.bucket()).putBlob({ name: objectName }, audio))).pipe(
      mergeMap(() => {
        const request = parsePayload(
          transcribeRequestSchema,
          { request_id: newRequestId(), audio_object: objectName, language, candidate_languages: candidates },
          'transcription request',
        );
        return streamRequest(this.client, request, {
          service: 'stt',
          subject: SUBJECTS.stt.transcribe,
          parse: replyParser(transcriptionSchema, 'stt'),
          firstReplyTimeoutMs: this.config.sttTimeoutMs,
          idleTimeoutMs: this.config.sttTimeoutMs,
          broker,
          livenessTimeoutMs: this.config.serviceLivenessTimeoutMs,
        });
      }),
      // The stt-service deletes what it read; this covers a request that never got that far.
      finalize(() => void this.remove(objectName)),
    );
  }

  private async remove(name: string): Promise<void> {
    try {
      const store = await this.bucket();
      const info = await store.info(name);
      if (info && !info.deleted) await store.delete(name);
    } catch (error) {
      this.logger.debug(`upload ${name} not removed (the bucket's TTL will): ${String(error)}`);
    }
  }

  private bucket(): Promise<ObjectStore> {
    this.store ??= openObjectStore(this.nats, AUDIO_BUCKET).catch((error: unknown) => {
      this.store = undefined;
      throw new ParleyError(
        'SERVICE_UNAVAILABLE',
        `the audio object store is unavailable (JetStream enabled?): ${String(error)}`,
      );
    });
    return this.store;
  }
}
