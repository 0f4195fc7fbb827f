/** DI token of the gateway's NestJS NATS ClientProxy (requests to the model services). */
export const NATS_CLIENT = 'PARLEY_NATS_CLIENT';

/** Ids for the NATS requests' cancel subjects (per call; the turn's id travels in the x-request-id header). */
export { newRequestId } from '@parley/service-kit';
