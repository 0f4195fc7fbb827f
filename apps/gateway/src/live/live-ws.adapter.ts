import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { IncomingMessage } from 'node:http';
import type { ZodType } from 'zod';
import { errorBodyFor, requestPath } from '../http/error-body.js';
import type { Admitted, UpgradeAdmission } from './live-admission.js';

/** Where the admission's verdict travels from the upgrade check to the connection handler. */
export const ADMISSION = Symbol('upgrade-admission');
export type AdmittedRequest<Query> = IncomingMessage & { [ADMISSION]?: Admitted<Query> };

/** What a gateway's `@WebSocketGateway` options add for this adapter: the schema of its upgrade query. */
export interface AdmittedSocketOptions {
  querySchema: ZodType<unknown>;
}

type Done = (ok: boolean, status?: number, message?: string, headers?: Record<string, string>) => void;

/**
 * platform-ws's adapter with the edge's admission run before every upgrade (a refusal is an HTTP
 * response with the route family's JSON error body), and without its `{event, data}` JSON
 * dispatch: each socket protocol reads its own messages.
 */
export class LiveWsAdapter extends WsAdapter {
  constructor(app: INestApplicationContext, private readonly admission: UpgradeAdmission) {
    super(app, { messageParser: () => undefined });
  }

  override create(port: number, options: Record<string, unknown> & { path?: string } & Partial<AdmittedSocketOptions>) {
    const { querySchema, ...wsOptions } = options;
    if (!querySchema) throw new Error(`the WebSocket gateway on ${options.path} names no querySchema: its upgrades could not be admitted`);
    return super.create(port, {
      ...wsOptions,
      verifyClient: (info: { req: AdmittedRequest<unknown> }, done: Done) => {
        this.admission.admit(info.req, querySchema).then(
          (verdict) => {
            if (!verdict.admitted) {
              return done(false, verdict.status, JSON.stringify(verdict.body), { ...verdict.headers, 'Content-Type': 'application/json' });
            }
            info.req[ADMISSION] = verdict;
            // The connection's own socket: it closes whether or not the upgrade completes, so the slot is always freed.
            info.req.socket.once('close', verdict.close);
            done(true);
          },
          (error: unknown) => {
            const body = errorBodyFor(requestPath(info.req), 503, 'SERVICE_UNAVAILABLE', `the upgrade could not be admitted: ${String(error)}`);
            done(false, 503, JSON.stringify(body), { 'Content-Type': 'application/json' });
          },
        );
      },
    });
  }
}
