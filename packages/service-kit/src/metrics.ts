import { Controller, Get, Header, Inject, Module, type DynamicModule } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One small metrics module every Parley process uses, so that the same names mean the same
 * thing on every dashboard. Units are in the names (`_seconds`, `_total`).
 */
export class ServiceMetrics {
  readonly registry = new Registry();

  /** 1 while the model named by the label is loaded in this process. */
  readonly modelLoaded = new Gauge({
    name: 'parley_model_loaded',
    help: 'Whether the model is loaded (1) or not (0) in this process',
    labelNames: ['service', 'model'] as const,
    registers: [this.registry],
  });

  /** Counts model loads: a resident model is loaded exactly once per process. */
  readonly modelLoads = new Counter({
    name: 'parley_model_loads_total',
    help: 'Model loads performed by this process',
    labelNames: ['service', 'model'] as const,
    registers: [this.registry],
  });

  readonly requestDuration = new Histogram({
    name: 'parley_request_duration_seconds',
    help: 'Duration of requests handled by this process, by operation and outcome',
    labelNames: ['service', 'operation', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly inFlight = new Gauge({
    name: 'parley_requests_in_flight',
    help: 'Requests being handled right now, by operation',
    labelNames: ['service', 'operation'] as const,
    registers: [this.registry],
  });

  /** From a cancel (or deadline) to the engine having really stopped: the promise is "within 50 ms". */
  readonly cancelToStop = new Histogram({
    name: 'parley_cancel_to_stop_seconds',
    help: 'Time from a request being cancelled to its engine work having stopped',
    labelNames: ['service', 'operation'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  constructor(readonly service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
  }

  markModelLoaded(model: string): void {
    this.modelLoads.inc({ service: this.service, model });
    this.modelLoaded.set({ service: this.service, model }, 1);
  }

  markModelUnloaded(model: string): void {
    this.modelLoaded.set({ service: this.service, model }, 0);
  }

  observeCancelToStop(operation: string, milliseconds: number): void {
    this.cancelToStop.observe({ service: this.service, operation }, milliseconds / 1000);
  }

  /**
   * Starts timing one request; the returned function ends it with an outcome
   * (`ok`, `cancelled`, or an error code). Calling it twice counts once.
   */
  startRequest(operation: string): (outcome: string) => void {
    const labels = { service: this.service, operation };
    this.inFlight.inc(labels);
    const stopTimer = this.requestDuration.startTimer(labels);
    let ended = false;
    return (outcome: string) => {
      if (ended) return;
      ended = true;
      this.inFlight.dec(labels);
      stopTimer({ outcome });
    };
  }
}

@Controller()
class MetricsController {
  constructor(@Inject(ServiceMetrics) private readonly metrics: ServiceMetrics) {}

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}

/** `MetricsModule.forService('llm')`: provides ServiceMetrics and serves GET /metrics. */
@Module({})
export class MetricsModule {
  static forService(service: string): DynamicModule {
    return {
      module: MetricsModule,
      global: true,
      controllers: [MetricsController],
      providers: [{ provide: ServiceMetrics, useValue: new ServiceMetrics(service) }],
      exports: [ServiceMetrics],
    };
  }
}
