import { Inject, Injectable } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import {
  replyParser,
  parsePayload,
  streamRequest,
  SUBJECTS,
  synthesizeRequestSchema,
  synthesizeStreamMessageSchema,
  type SynthesizeStreamMessage,
} from '@parley/contracts';
import { map, reduce, type Observable } from 'rxjs';
import type { GatewayConfig } from '../config.js';
import { pcm16Wav } from '../speech/wav.js';
import { GATEWAY_CONFIG } from '../tokens.js';
import { NATS_CLIENT, newRequestId } from './nats-client.js';

export interface SpeechOptions {
  language: string;
  voice?: string;
  /** Engine speed: 1 normal, 2 twice as fast (the inverse of the API's speech_rate). */
  speed: number;
}

export interface SynthesizedWav {
  wav: Buffer;
  sampleRate: number;
}

/** The gateway's side of the tts-service's streaming synthesis subject. */
@Injectable()
export class TtsClient {
  constructor(
    @Inject(NATS_CLIENT) private readonly client: ClientProxy,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  synthesize(text: string, options: SpeechOptions): Observable<SynthesizeStreamMessage> {
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
    });
  }

  /** The whole text's speech as one WAV file (unsubscribing cancels the synthesis). */
  synthesizeWav(text: string, options: SpeechOptions): Observable<SynthesizedWav> {
    return this.synthesize(text, options).pipe(
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
}
