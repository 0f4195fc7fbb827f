import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBodyFor, requestPath } from '../http/error-body.js';
import { EdgeAccess, isRefusal, type EdgeRefusal } from './edge-access.js';

/** Answers a refused request in its route family's error shape. */
export function sendRefusal(req: Request, res: Response, refusal: EdgeRefusal): void {
  for (const [name, value] of Object.entries(refusal.headers ?? {})) res.setHeader(name, value);
  res.status(refusal.status).json(errorBodyFor(requestPath(req), refusal.status, refusal.code, refusal.message));
}

/** Answers a refused WebSocket upgrade on its raw socket (before any upgrade), then closes it. */
export function refuseUpgrade(socket: Duplex, path: string, refusal: EdgeRefusal): void {
  const body = JSON.stringify(errorBodyFor(path, refusal.status, refusal.code, refusal.message));
  const headers = {
    ...refusal.headers,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
  };
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? ''}\r\n${head}\r\n${body}`);
}

/** 403 for a browser page on an origin that is not allowed (the CORS answer alone would not stop a simple POST). */
@Injectable()
export class OriginGuardMiddleware implements NestMiddleware {
  constructor(@Inject(EdgeAccess) private readonly edge: EdgeAccess) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const refusal = this.edge.checkOrigin(req);
    if (refusal) return sendRefusal(req, res, refusal);
    next();
  }
}

/** 401 without a valid key when keys are configured; remembers the caller on the request. */
@Injectable()
export class ApiKeyMiddleware implements NestMiddleware {
  constructor(@Inject(EdgeAccess) private readonly edge: EdgeAccess) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const client = this.edge.authenticate(req);
    if (isRefusal(client)) return sendRefusal(req, res, client);
    next();
  }
}

/**
 * Spends one request of the caller's budget, shared by every replica, for requests that start
 * work (POST): the RateLimit headers on the answer, 429 with Retry-After past the limit.
 */
@Injectable()
export class RateLimitMiddleware implements NestMiddleware {
  constructor(@Inject(EdgeAccess) private readonly edge: EdgeAccess) {}

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    if (req.method !== 'POST') return next();
    const client = this.edge.clientOf(req) ?? this.edge.authenticate(req);
    if (isRefusal(client)) return sendRefusal(req, res, client);
    const { headers, refusal } = await this.edge.rateLimit(client);
    if (refusal) return sendRefusal(req, res, refusal);
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    next();
  }
}

/** Caps the streams one client has open at once (429 past the cap); the slot frees when the response closes. */
@Injectable()
export class StreamCapMiddleware implements NestMiddleware {
  constructor(@Inject(EdgeAccess) private readonly edge: EdgeAccess) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const client = this.edge.clientOf(req) ?? this.edge.authenticate(req);
    if (isRefusal(client)) return sendRefusal(req, res, client);
    const close = this.edge.openStream(client);
    if (isRefusal(close)) return sendRefusal(req, res, close);
    res.on('close', close);
    next();
  }
}
