import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { describeIssues } from '@parley/contracts';
import type { ZodType } from 'zod';
import { EdgeAccess, isRefusal, type EdgeClient, type EdgeRefusal } from '../edge/edge-access.js';
import { errorBodyFor, requestPath } from '../http/error-body.js';
import { TtsVoicesClient } from '../voices/tts-voices.client.js';
import { unknownVoiceError } from '../voices/voices.js';
import { GatewayDrain } from '../shutdown/gateway-drain.js';

export interface Admitted<Query> {
  admitted: true;
  query: Query;
  client: EdgeClient;
  /** Frees the client's stream slot: call it once, when the socket closes. */
  close: () => void;
}

export interface Refused {
  admitted: false;
  status: number;
  /** The route family's error shape (NestJS's under /api, OpenAI's under /v1). */
  body: object;
  headers: Record<string, string>;
}

export type Admission<Query> = Admitted<Query> | Refused;

/**
 * Decides on a WebSocket before the upgrade, so that a refusal is a plain HTTP answer with the
 * route's error body. The edge's own rule (`EdgeAccess.admitUpgrade`: browser origin 403, API key
 * 401, shared rate limit 429, streams per client 429) comes first, exactly as for HTTP routes;
 * then the socket's query (400). One rule for every socket and every HTTP route.
 */
@Injectable()
export class UpgradeAdmission {
  constructor(
    @Inject(EdgeAccess) private readonly edge: EdgeAccess,
    @Inject(GatewayDrain) private readonly drain: GatewayDrain,
    @Inject(TtsVoicesClient) private readonly voices: TtsVoicesClient,
  ) {}

  async admit<Query>(request: IncomingMessage, querySchema: ZodType<Query>): Promise<Admission<Query>> {
    const path = requestPath(request);
    // A replica shutting down takes no new socket (503, Retry-After): the client reconnects through the balancer.
    if (this.drain.draining) return refused(path, this.drain.refusal());
    const verdict = await this.edge.admitUpgrade(request);
    if (isRefusal(verdict)) return refused(path, verdict);
    const params = new URL(request.url ?? '/', 'http://gateway').searchParams;
    const parsed = querySchema.safeParse(Object.fromEntries(params));
    if (!parsed.success) {
      verdict.close();
      return refused(path, { status: 400, code: 'INVALID_REQUEST', message: `Invalid query: ${describeIssues(parsed.error)}` });
    }
    // A voice nobody has loaded is the caller's mistake, said before the upgrade (as on the HTTP turn routes).
    const voice = (parsed.data as { voice?: string }).voice;
    const unknownVoice = voice === undefined ? undefined : unknownVoiceError(voice, (await this.voices.residentVoices())?.voices);
    if (unknownVoice) {
      verdict.close();
      return refused(path, { status: 400, code: 'INVALID_REQUEST', message: unknownVoice.message.replace(/^Invalid request/, 'Invalid query') });
    }
    return { admitted: true, query: parsed.data, client: verdict.client, close: verdict.close };
  }
}

function refused(path: string, refusal: EdgeRefusal): Refused {
  return {
    admitted: false,
    status: refusal.status,
    body: errorBodyFor(path, refusal.status, refusal.code, refusal.message),
    headers: refusal.headers ?? {},
  };
}
