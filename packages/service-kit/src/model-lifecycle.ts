import { Logger } from '@nestjs/common';
import { hostname } from 'node:os';
import { ParleyError, type ModelStatus, type ServiceHealth, type ServiceName } from '@parley/contracts';
import type { ServiceMetrics } from './metrics.js';

/**
 * The life of a resident model in one process: loaded once at start-up, reported by the health
 * subject and the `parley_model_loaded` / `parley_model_loads_total` metrics.
 */
export class ModelLifecycle {
  private status: ModelStatus = 'not_loaded';
  private loads = 0;
  private error: string | undefined;
  private readonly logger: Logger;
  readonly replica = `${hostname()}:${process.pid}`;

  constructor(
    readonly service: ServiceName,
    readonly modelName: string,
    private readonly metrics: ServiceMetrics,
  ) {
    this.logger = new Logger(`${service}-model`);
  }

  get isLoaded(): boolean {
    return this.status === 'loaded';
  }

  /** Throws MODEL_NOT_LOADED (503) unless the model is loaded: requests never reach an unloaded engine. */
  requireLoaded(): void {
    if (this.status !== 'loaded') {
      throw new ParleyError(
        'MODEL_NOT_LOADED',
        `the ${this.service} model is ${this.status}; try again when it is loaded`,
      );
    }
  }

  /** Loads the model with `load`, at most once for the life of the process. */
  async load(load: () => Promise<void>): Promise<void> {
    if (this.status !== 'not_loaded') {
      throw new Error(`${this.service} model is already ${this.status}; a resident model is loaded once`);
    }
    this.status = 'loading';
    const started = performance.now();
    this.logger.log(`loading model ${this.modelName}`);
    try {
      await load();
      this.loads += 1;
      this.status = 'loaded';
      this.metrics.markModelLoaded(this.modelName, performance.now() - started);
      this.logger.log(
        `model ${this.modelName} loaded in ${Math.round(performance.now() - started)} ms (load #${this.loads} of this process)`,
      );
    } catch (error) {
      this.status = 'error';
      this.error = error instanceof Error ? error.message : String(error);
      this.metrics.markModelUnloaded(this.modelName);
      this.logger.error(`model ${this.modelName} failed to load: ${this.error}`);
    }
  }

  health(): ServiceHealth {
    return {
      service: this.service,
      status: this.status,
      model: this.modelName,
      model_loads: this.loads,
      replica: this.replica,
      ...(this.error ? { error: this.error } : {}),
    };
  }
}
