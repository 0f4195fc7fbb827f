import { bootstrapService } from '@parley/service-kit';
import { SttServiceModule } from './app.module.js';
import { loadConfig } from './config.js';

const config = loadConfig();
await bootstrapService({ service: 'stt', module: SttServiceModule.forRoot(config), httpPort: config.httpPort });
