import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Response } from 'express';
import { DRAIN_STATE, type DrainState } from './draining.js';
import { ModelLifecycle } from './model-lifecycle.js';
import { NATS_CONNECTION } from './nats.js';

const BROKER_PING_TIMEOUT_MS = 1000;

/** Answers within the timeout when the broker answers a ping (a flush is a round trip). */
async function brokerAnswers(nats: NatsConnection | undefined): Promise<boolean> {
  if (!nats || nats.isClosed()) return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), BROKER_PING_TIMEOUT_MS)));
  try {
    return await Promise.race([nats.flush().then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Kubernetes probes on every service's HTTP port. Liveness (`/healthz`) only says the process
 * answers, so a broker blip never restarts pods; readiness (`/readyz`) says the broker answers
 * and, in a model service, the model is loaded, and that the process is not draining (shutting down).
 */
@Controller()
export class ProbesController {
  constructor(@Inject(ModuleRef) private readonly modules: ModuleRef) {}

  @Get('healthz')
  alive() {
    return { status: 'alive' };
  }

  @Get('readyz')
  async ready(@Res({ passthrough: true }) res: Response) {
    const broker = (await brokerAnswers(this.optional<NatsConnection>(NATS_CONNECTION))) ? 'connected' : 'unreachable';
    const model = this.optional<ModelLifecycle>(ModelLifecycle)?.health().status;
    const draining = this.optional<DrainState>(DRAIN_STATE)?.draining === true;
    const ready = !draining && broker === 'connected' && (model === undefined || model === 'loaded');
    res.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ready ? 'ready' : 'not_ready', broker, ...(model ? { model } : {}), ...(draining ? { draining } : {}) };
  }

  private optional<T>(token: unknown): T | undefined {
    try {
      return this.modules.get(token as string, { strict: false }) as T;
    } catch {
      return undefined;
    }
  }
}
