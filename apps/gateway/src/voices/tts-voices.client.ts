import { Inject, Injectable } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { SUBJECTS, ttsVoicesReplySchema, type TtsVoicesReply } from '@parley/contracts';
import { firstValueFrom, timeout } from 'rxjs';
import type { GatewayConfig } from '../config.js';
import { NATS_CLIENT } from '../services/nats-client.js';
import { GATEWAY_CONFIG } from '../tokens.js';

/** Asks a tts-service replica which voices it has loaded (undefined when none answers in time). */
@Injectable()
export class TtsVoicesClient {
  constructor(
    @Inject(NATS_CLIENT) private readonly client: ClientProxy,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async residentVoices(): Promise<TtsVoicesReply | undefined> {
    try {
      const reply = await firstValueFrom(
        this.client.send(SUBJECTS.tts.voices, {}).pipe(timeout(this.config.healthTimeoutMs)),
      );
      return ttsVoicesReplySchema.parse(reply);
    } catch {
      return undefined;
    }
  }
}
