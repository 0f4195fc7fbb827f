import { Logger, type DynamicModule, type Provider } from '@nestjs/common';
import { METRICS, type ServiceHealth } from '@parley/contracts';
import { ModelLifecycle, ServiceMetrics } from '@parley/service-kit';
import type { Counter } from 'prom-client';
import type { EngineEvent, SttEngine } from '../engine/stt-engine.port.js';

/**
 * The stt model's lifecycle, honest about whisper-server children: every child start loads the
 * model, so a restart (a child died) is a reload. Health's `model_loads` and
 * `parley_model_loads_total` count every load, `parley_stt_server_restarts_total` every restart,
 * and health says `loading` while no child can serve.
 */
export class SttModelLifecycle extends ModelLifecycle {
  private readonly log = new Logger('stt-model');
  private extraLoads = 0;
  private readonly restarts: Counter<'service' | 'model'>;

  constructor(
    private readonly engine: SttEngine,
    private readonly serviceMetrics: ServiceMetrics,
  ) {
    super('stt', engine.modelName, serviceMetrics);
    this.restarts = serviceMetrics.counter(METRICS.sttServerRestarts);
    this.restarts.inc({ service: 'stt', model: engine.modelName }, 0);
    engine.onEvent((event) => this.onEngineEvent(event));
  }

  override health(): ServiceHealth {
    const base = super.health();
    const health: ServiceHealth = { ...base, model_loads: base.model_loads + this.extraLoads };
    if (base.status === 'loaded' && this.engine.unavailableWorkers > 0) {
      // Requests still queue and are served as soon as the restarted child is ready.
      return { ...health, status: 'loading', error: `${this.engine.unavailableWorkers} whisper-server child(ren) restarting` };
    }
    return health;
  }

  private onEngineEvent(event: EngineEvent): void {
    const model = this.engine.modelName;
    switch (event.type) {
      case 'model-loaded':
        // The first child's load is counted by ModelLifecycle.load(); every other child start is one more load.
        if (event.reload || event.worker > 0) {
          this.extraLoads += 1;
          this.serviceMetrics.markModelLoaded(model, event.loadMs);
        }
        if (event.reload) {
          this.log.warn(`model ${model} reloaded by whisper-server #${event.worker} (pid ${event.pid}) in ${event.loadMs} ms`);
        }
        break;
      case 'worker-exited':
        this.log.error(`whisper-server #${event.worker} (pid ${event.pid}) died: ${event.reason}`);
        break;
      case 'worker-restarting':
        this.restarts.inc({ service: 'stt', model });
        this.log.warn(`restarting whisper-server #${event.worker} (attempt ${event.attempt}${event.delayMs ? ` in ${event.delayMs} ms` : ''})`);
        break;
    }
  }
}

/**
 * ResidentModelModule provides a plain ModelLifecycle; the stt-service swaps in SttModelLifecycle
 * (same token, same constructor inputs) so the shared health controller reports restarts.
 */
export function withSttLifecycle(module: DynamicModule, engineToken: symbol): DynamicModule {
  let replaced = 0;
  const providers = (module.providers ?? []).map((provider): Provider => {
    if (typeof provider === 'object' && provider !== null && 'provide' in provider && provider.provide === ModelLifecycle) {
      replaced += 1;
      return {
        provide: ModelLifecycle,
        inject: [engineToken, ServiceMetrics],
        useFactory: (engine: SttEngine, metrics: ServiceMetrics) => new SttModelLifecycle(engine, metrics),
      };
    }
    return provider;
  });
  if (replaced !== 1) throw new Error('ResidentModelModule no longer provides ModelLifecycle as expected: update withSttLifecycle');
  return { ...module, providers };
}
