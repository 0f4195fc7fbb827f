import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { IncomingMessage } from 'node:http';
import type { LiveAdmission, Admission } from './live-admission.js';

/** Where the admission's verdict travels from the upgrade check to the connection handler. */
export const ADMISSION = Symbol('live-admission');
export type AdmittedRequest = IncomingMessage & { [ADMISSION]?: Extract<Admission, { admitted: true }> };

/**
 * platform-ws's adapter with the live socket's admission run before the upgrade (a refusal is
 * an HTTP response with the JSON error body), and without its `{event, data}` JSON dispatch:
 * the live protocol has binary audio and `{type}` messages, read by the gateway itself.
 */
export class LiveWsAdapter extends WsAdapter {
  constructor(app: INestApplicationContext, private readonly admission: LiveAdmission) {
    super(app, { messageParser: () => undefined });
  }

  override create(port: number, options: Record<string, unknown> & { path?: string }) {
    return super.create(port, {
      ...options,
      verifyClient: (
        info: { req: AdmittedRequest },
        done: (ok: boolean, status?: number, message?: string, headers?: Record<string, string>) => void,
      ) => {
        const verdict = this.admission.admit(info.req);
        if (!verdict.admitted) return done(false, verdict.status, JSON.stringify(verdict.body), { 'Content-Type': 'application/json', ...verdict.headers });
        info.req[ADMISSION] = verdict;
        done(true);
      },
    });
  }
}
