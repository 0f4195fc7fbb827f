import { Inject, Injectable } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  LIVE_SUBJECTS,
  liveAudioSubject,
  liveEventSchema,
  liveOpenRequestSchema,
  parsePayload,
  type LiveDetection,
  type LiveEvent,
  type LiveInputFrame,
} from '@parley/contracts';
import { encodeBinaryFrame, NATS_CONNECTION, replyParser, streamRequest } from '@parley/service-kit';
import { Observable } from 'rxjs';
import type { GatewayConfig } from '../config.js';
import { GATEWAY_CONFIG } from '../tokens.js';
import { NATS_CLIENT, newRequestId } from './nats-client.js';

/** Audio per NATS frame: a large WebSocket message (up to 1 MiB) is split to stay far below NATS's 1 MB limit. */
const MAX_FRAME_BYTES = 64 * 1024;

export interface SttLiveStream {
  /** Events of the stream; subscribe once. Unsubscribing cancels the stream in its replica. */
  readonly events: Observable<LiveEvent>;
  /** PCM16 16 kHz audio whose first sample is at `offset` on the connection's clock. Buffered until `opened`. */
  audio(offset: number, pcm: Uint8Array): void;
  commit(): void;
  /** Forgets the utterance in progress (manual detection: the audio since the last commit). */
  clear(): void;
  keepalive(): void;
  /** No more audio: the replica finishes the utterance in progress and ends the stream. */
  close(): void;
}

/**
 * The gateway's side of the stt-service's live streams (protocol: apps/stt-service/README.md,
 * "Live audio"): the open request goes to any replica; frames go to the owner's own subject,
 * only once it said `opened` (earlier ones are kept and sent then).
 */
@Injectable()
export class SttLiveClient {
  constructor(
    @Inject(NATS_CLIENT) private readonly client: ClientProxy,
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  open(options: { language: string; startSample: number; detection?: LiveDetection }): SttLiveStream {
    const request = parsePayload(
      liveOpenRequestSchema,
      { request_id: newRequestId(), language: options.language, start_sample: options.startSample, partials: true, detection: options.detection },
      'live stream request',
    );
    const subject = liveAudioSubject(request.request_id);
    let opened = false;
    let pending: LiveInputFrame[] = [];
    const publish = (frame: LiveInputFrame) => {
      if (!opened) pending.push(frame);
      else this.nats.publish(subject, encodeBinaryFrame(frame));
    };
    const replies = streamRequest(this.client, request, {
      service: 'stt',
      subject: LIVE_SUBJECTS.open,
      parse: replyParser(liveEventSchema, 'stt'),
      firstReplyTimeoutMs: this.config.liveSttTimeoutMs,
      // Heartbeats come every second: silence for this long means the replica is gone.
      idleTimeoutMs: this.config.liveSttTimeoutMs,
    });
    const events = new Observable<LiveEvent>((subscriber) =>
      replies.subscribe({
        next: (event) => {
          if (event.type === 'opened' && !opened) {
            opened = true;
            for (const frame of pending) this.nats.publish(subject, encodeBinaryFrame(frame));
            pending = [];
          }
          subscriber.next(event);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    );
    return {
      events,
      audio: (offset, pcm) => {
        for (let at = 0; at < pcm.byteLength; at += MAX_FRAME_BYTES) {
          publish({ type: 'audio', offset: offset + at / 2, pcm: pcm.subarray(at, Math.min(pcm.byteLength, at + MAX_FRAME_BYTES)) });
        }
      },
      commit: () => publish({ type: 'commit' }),
      clear: () => publish({ type: 'clear' }),
      keepalive: () => publish({ type: 'keepalive' }),
      close: () => publish({ type: 'close' }),
    };
  }
}
