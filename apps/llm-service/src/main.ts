import { bootstrapService } from '@parley/service-kit';
import { LlmServiceModule } from './app.module.js';
import { loadConfig } from './config.js';

const config = loadConfig();
await bootstrapService({ service: 'llm', module: LlmServiceModule.forRoot(config), httpPort: config.httpPort });
