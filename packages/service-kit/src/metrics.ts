import { Controller, Get, Header, Inject, Module, type DynamicModule } from '@nestjs/common';
import { METRICS, type MetricDefinition } from '@parley/contracts';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ConcurrencyGate } from './concurrency-gate.js';
import { ProbesController } from './probes.js';

/**
 * One small metrics module every Parley process uses, so that the same names mean the same
 * thing on every dashboard. Names, labels and help come from the vocabulary in
 * `@parley/contracts` (METRICS), which the dashboards and alert rules read too.
 */
export class ServiceMetrics {
  readonly registry = new Registry();

  /** 1 while the model named by the label is loaded in this process. */
  readonly modelLoaded = this.gauge(METRICS.modelLoaded);
  /** Counts model loads: a resident model is loaded exactly once per process. */
  readonly modelLoads = this.counter(METRICS.modelLoads);
  readonly modelLoadDuration = this.gauge(METRICS.modelLoadDuration);
  readonly requestDuration = this.histogram(METRICS.requestDuration);
  readonly inFlight = this.gauge(METRICS.requestsInFlight);
  /** From a cancel (or deadline) to the engine having really stopped: the promise is "within 50 ms". */
  readonly cancelToStop = this.histogram(METRICS.cancelToStop);
  private readonly operations = new Set<string>();

  constructor(readonly service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * A counter in this process's registry, from its definition in the vocabulary (the same
   * instance when asked again, so two users of one metric share it).
   */
  counter<Label extends string>(definition: MetricDefinition<Label>): Counter<Label> {
    return this.registered(definition) ?? new Counter({ ...promClientOptions(definition), registers: [this.registry] });
  }

  /** A gauge; with `collect`, its value is read at every scrape. */
  gauge<Label extends string>(
    definition: MetricDefinition<Label>,
    collect?: (gauge: Gauge<Label>) => void,
  ): Gauge<Label> {
    return (
      this.registered(definition) ??
      new Gauge({
        ...promClientOptions(definition),
        registers: [this.registry],
        ...(collect
          ? {
              collect(this: Gauge<Label>) {
                collect(this);
              },
            }
          : {}),
      })
    );
  }

  histogram<Label extends string>(definition: MetricDefinition<Label>): Histogram<Label> {
    return (
      this.registered(definition) ??
      new Histogram({
        ...promClientOptions(definition),
        buckets: [...(definition.buckets ?? [])],
        registers: [this.registry],
      })
    );
  }

  private registered<M>(definition: MetricDefinition): M | undefined {
    return this.registry.getSingleMetric(definition.name) as M | undefined;
  }

  /** Exports the gate's queue depth, queue capacity and slots, read at every scrape. */
  watchConcurrencyGate<G extends Pick<ConcurrencyGate, 'queued' | 'maxQueued' | 'slots'>>(gate: G): G {
    const labels = { service: this.service };
    this.gauge(METRICS.queueDepth, (gauge) => gauge.set(labels, gate.queued));
    this.gauge(METRICS.queueCapacity, (gauge) => gauge.set(labels, gate.maxQueued));
    this.gauge(METRICS.engineSlots, (gauge) => gauge.set(labels, gate.slots));
    return gate;
  }

  markModelLoaded(model: string, loadMs?: number): void {
    this.modelLoads.inc({ service: this.service, model });
    this.modelLoaded.set({ service: this.service, model }, 1);
    if (loadMs !== undefined) this.modelLoadDuration.set({ service: this.service, model }, loadMs / 1000);
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
    if (!this.operations.has(operation)) {
      // Export the cancel histogram from the first request on, so dashboards read 0, not nothing.
      this.operations.add(operation);
      this.cancelToStop.zero(labels);
    }
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

function promClientOptions<Label extends string>(definition: MetricDefinition<Label>) {
  return { name: definition.name, help: definition.help, labelNames: definition.labelNames };
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

/**
 * `MetricsModule.forService('llm')`: provides ServiceMetrics and serves GET /metrics, plus the
 * probes every service answers on the same port (GET /healthz, GET /readyz).
 */
@Module({})
export class MetricsModule {
  static forService(service: string): DynamicModule {
    return {
      module: MetricsModule,
      global: true,
      controllers: [MetricsController, ProbesController],
      providers: [{ provide: ServiceMetrics, useValue: new ServiceMetrics(service) }],
      exports: [ServiceMetrics],
    };
  }
}
