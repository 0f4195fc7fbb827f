import { Inject, Injectable } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import {
  parsePayload,
  SUBJECTS,
  synthesizeRequestSchema,
  synthesizeStreamMessageSchema,
  type SynthesizeStreamMessage,
} from '@parley/contracts';
import type { NatsConnection } from '@nats-io/transport-node';
import { brokerStatus, NATS_CONNECTION, replyParser, streamRequest } from '@parley/service-kit';
import { map, reduce, type Observable } from 'rxjs';
import type { GatewayConfig } from '../config.js';
import type { Speech, SpeechOptions, SpokenAudio } from '../conversation/turn/ports.js';
import type { SpeechStream } from '../openai/speech-stream.port.js';
import { pcm16Wav } from '../speech/wav.js';
import { GATEWAY_CONFIG } from '../tokens.js';
import { NATS_CLIENT, newRequestId } from './nats-client.js';

/** The Speech port over the tts-service's streaming synthesis subject. */
@Injectable()
export class TtsClient implements Speech, SpeechStream {
  constructor(
    @Inject(NATS_CLIENT) private readonly client: ClientProxy,
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** The whole text's speech as one WAV file (unsubscribing cancels the synthesis). */
  synthesize(text: string, options: SpeechOptions): Observable<SpokenAudio> {
    return this.stream(text, options).pipe(
      reduce(
        (acc, message) => {
          if (message.type === 'audio') acc.chunks.push(message.pcm);
          acc.sampleRate = message.sample_rate;
          return acc;
        },
        { chunks: [] as Uint8Array[], sampleRate: 0 },
      ),
      map(({ chunks, sampleRate }) => ({ wav: pcm16Wav(chunks, sampleRate), sampleRate })),
    );
  }

  /** The speech as it is synthesized: PCM chunks in order, then one `done` (unsubscribing cancels). */
  stream(text: string, options: SpeechOptions): Observable<SynthesizeStreamMessage> {
    const request = parsePayload(
      synthesizeRequestSchema,
      { request_id: newRequestId(), text, language: options.language, voice: options.voice, speed: options.speed },
      'synthesis request',
    );
    return streamRequest(this.client, request, {
      service: 'tts',
      subject: SUBJECTS.tts.synthesize,
      parse: replyParser(synthesizeStreamMessageSchema, 'tts'),
      firstReplyTimeoutMs: this.config.ttsFirstReplyTimeoutMs,
      idleTimeoutMs: this.config.ttsIdleTimeoutMs,
      broker: brokerStatus(this.nats),
      livenessTimeoutMs: this.config.serviceLivenessTimeoutMs,
    });
  }
}
