import 'reflect-metadata';
import { existsSync, readFileSync } from 'node:fs';
import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { serviceLogger } from '@parley/service-kit';
import { GatewayModule } from './app.module.js';
import { UpgradeAdmission } from './live/live-admission.js';
import { LiveWsAdapter } from './live/live-ws.adapter.js';
import type { GatewayConfig } from './config.js';
import { applyBrowserEdge } from './edge/browser-edge.js';
import { GatewayShutdown } from './shutdown/gateway-shutdown.js';

export interface GatewayProcessOptions {
  /** Own the process's SIGTERM: drain (GatewayShutdown), close, exit. Off for in-process tests. */
  drainOnSigterm?: boolean;
}

/** Creates and starts the gateway (also used by the tests, which pass their own config). */
export async function startGateway(config: GatewayConfig, options: GatewayProcessOptions = {}): Promise<INestApplication> {
  const httpsOptions = config.tls ? { cert: readFileSync(config.tls.certPath), key: readFileSync(config.tls.keyPath) } : undefined;
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(config), { logger: serviceLogger('gateway'), httpsOptions });
  app.useWebSocketAdapter(new LiveWsAdapter(app, app.get(UpgradeAdmission)));
  if (options.drainOnSigterm) {
    // SIGTERM (Kubernetes stopping the pod) drains first; the other signals close at once.
    app.enableShutdownHooks(['SIGINT', 'SIGHUP', 'SIGQUIT']);
    process.once('SIGTERM', () => void drainAndExit(app));
  } else {
    app.enableShutdownHooks();
  }
  applyBrowserEdge(app);
  if (config.publicDir && existsSync(config.publicDir)) app.useStaticAssets(config.publicDir);
  await app.listen(config.port, '0.0.0.0');
  new Logger('gateway').log(`HTTP API on ${await app.getUrl()}`);
  return app;
}

/** Refuses new work, lets the turns under way finish (bounded by SHUTDOWN_GRACE_MS), then closes and exits. */
async function drainAndExit(app: INestApplication): Promise<void> {
  const logger = new Logger('gateway');
  try {
    await app.get(GatewayShutdown).drainThenStop();
    await app.close();
    process.exit(0);
  } catch (error) {
    logger.error(`shutdown failed: ${String(error)}`);
    process.exit(1);
  }
}
