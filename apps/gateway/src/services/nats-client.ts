/** DI token of the gateway's NestJS NATS ClientProxy (requests to the model services). */
export const NATS_CLIENT = 'PARLEY_NATS_CLIENT';

export function newRequestId(): string {
  return crypto.randomUUID().replaceAll('-', '');
}
