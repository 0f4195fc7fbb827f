import type { NatsConnection } from '@nats-io/transport-node';
import { describeIssues, liveAudioSubject, liveInputFrameSchema } from '@parley/contracts';
import { decodeBinaryFrame, isBinaryFrame } from '@parley/service-kit';
import type { LiveAudioHandlers, LiveAudioSource } from './live-audio-source.port.js';

/**
 * A stream's frames from its own subject, subscribed outside any queue group (only the owning
 * replica listens). The flush makes sure the broker knows the subscription before the caller is
 * told to send.
 */
export class NatsLiveAudioSource implements LiveAudioSource {
  constructor(private readonly nats: NatsConnection) {}

  async listen(streamId: string, handlers: LiveAudioHandlers): Promise<{ close(): void }> {
    const subscription = this.nats.subscribe(liveAudioSubject(streamId), {
      callback: (error, message) => {
        if (error) return handlers.invalid(`subscription failed: ${error.message}`);
        if (!isBinaryFrame(message.data)) return handlers.invalid('not a binary frame (see the binary-frame codec)');
        let decoded: unknown;
        try {
          decoded = decodeBinaryFrame(message.data);
        } catch (decodeError) {
          return handlers.invalid(`unreadable binary frame: ${(decodeError as Error).message}`);
        }
        const parsed = liveInputFrameSchema.safeParse(decoded);
        if (!parsed.success) return handlers.invalid(`invalid frame: ${describeIssues(parsed.error)}`);
        handlers.frame(parsed.data);
      },
    });
    await this.nats.flush();
    return { close: () => subscription.unsubscribe() };
  }
}
