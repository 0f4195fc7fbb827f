import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { sendRefusal } from '../edge/edge.middleware.js';
import { GatewayDrain } from './gateway-drain.js';

/**
 * While this replica drains, new requests are refused with 503 and Retry-After (another replica
 * answers them); otherwise the response gets the replica's tracker, so its turn is waited for.
 */
@Injectable()
export class DrainMiddleware implements NestMiddleware {
  constructor(@Inject(GatewayDrain) private readonly drain: GatewayDrain) {}

  use(req: Request, res: Response, next: NextFunction): void {
    if (this.drain.draining) return sendRefusal(req, res, this.drain.refusal());
    this.drain.attach(res);
    next();
  }
}
