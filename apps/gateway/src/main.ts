import { loadGatewayConfig } from './config.js';
import { startGateway } from './server.js';

await startGateway(loadGatewayConfig(), { drainOnSigterm: true });
