import { bootstrapService } from '@parley/service-kit';
import { TtsServiceModule } from './app.module.js';
import { loadConfig } from './config.js';

const config = loadConfig();
// Audio chunks travel as binary frames (raw PCM bytes), not JSON arrays.
await bootstrapService({ service: 'tts', module: TtsServiceModule.forRoot(config), httpPort: config.httpPort, binaryReplies: true });
