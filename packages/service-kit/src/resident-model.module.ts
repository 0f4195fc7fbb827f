import {
  Controller,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import type { ServiceHealth, ServiceName } from '@parley/contracts';
import { ServiceMetrics } from './metrics.js';
import { ModelLifecycle } from './model-lifecycle.js';

/** What every engine port shares: a model name and a one-time load. */
export interface ResidentEngine {
  readonly modelName: string;
  load(): Promise<void>;
}

export interface ResidentModelOptions {
  service: ServiceName;
  /** DI token under which the engine is provided (and exported) to the service's use cases. */
  engineToken: symbol;
  /** Creates the service's engine adapter (an LlmEngine, SttEngine, TtsEngine...). */
  createEngine: () => ResidentEngine;
  healthSubject: string;
}

/**
 * The part every model service shares: the model is loaded once when the app has started (the
 * health subject says `loading` meanwhile, so a slow load never blocks the broker connection),
 * and the health subject answers from the ModelLifecycle.
 */
@Module({})
export class ResidentModelModule {
  static register(options: ResidentModelOptions): DynamicModule {
    @Injectable()
    class ModelLoader implements OnApplicationBootstrap {
      constructor(
        @Inject(ModelLifecycle) private readonly lifecycle: ModelLifecycle,
        @Inject(options.engineToken) private readonly engine: ResidentEngine,
      ) {}

      onApplicationBootstrap(): void {
        void this.lifecycle.load(() => this.engine.load());
      }
    }

    @Controller()
    class HealthMessageController {
      constructor(@Inject(ModelLifecycle) private readonly lifecycle: ModelLifecycle) {}

      @MessagePattern(options.healthSubject)
      health(): ServiceHealth {
        return this.lifecycle.health();
      }
    }

    return {
      module: ResidentModelModule,
      controllers: [HealthMessageController],
      providers: [
        { provide: options.engineToken, useFactory: options.createEngine },
        {
          provide: ModelLifecycle,
          inject: [options.engineToken, ServiceMetrics],
          useFactory: (engine: ResidentEngine, metrics: ServiceMetrics) =>
            new ModelLifecycle(options.service, engine.modelName, metrics),
        },
        ModelLoader,
      ],
      exports: [ModelLifecycle, options.engineToken],
    };
  }
}
