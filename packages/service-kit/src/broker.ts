import { ParleyError } from '@parley/contracts';
import type { NatsConnection } from '@nats-io/transport-node';
import { Observable, Subject } from 'rxjs';

/**
 * Whether the message broker is reachable, as one NATS connection sees it. While it is not
 * (NATS stopped, restarting, a network cut), requests fail at once with BROKER_UNAVAILABLE
 * instead of waiting for a timeout, and streams under way end with that error; the connection
 * reconnects by itself (maxReconnectAttempts -1) and the next request works.
 */
export class BrokerStatus {
  private up = true;
  private readonly lost = new Subject<ParleyError>();

  constructor(nats: NatsConnection) {
    void this.watch(nats);
  }

  /** Emits (never completes) each time the connection to the broker is lost. */
  get lost$(): Observable<ParleyError> {
    return this.lost.asObservable();
  }

  get isUp(): boolean {
    return this.up;
  }

  /** Throws BROKER_UNAVAILABLE while the broker is unreachable. */
  assertUp(): void {
    if (!this.up) throw brokerUnavailable('reconnecting');
  }

  private async watch(nats: NatsConnection): Promise<void> {
    for await (const status of nats.status()) {
      if (status.type === 'disconnect') {
        this.up = false;
        this.lost.next(brokerUnavailable('the connection was lost'));
      } else if (status.type === 'reconnect') {
        this.up = true;
      }
    }
    this.up = false; // closed for good
  }
}

const statuses = new WeakMap<NatsConnection, BrokerStatus>();

/** The BrokerStatus of a connection (one per connection; call it once at start-up so it sees every change). */
export function brokerStatus(nats: NatsConnection): BrokerStatus {
  let status = statuses.get(nats);
  if (!status) statuses.set(nats, (status = new BrokerStatus(nats)));
  return status;
}

export function brokerUnavailable(detail: string): ParleyError {
  return new ParleyError(
    'BROKER_UNAVAILABLE',
    `The message broker (NATS) is unreachable (${detail}); try again in a few seconds.`,
  );
}

const CONNECTION_ERRORS = new Set([
  'ClosedConnectionError',
  'DrainingConnectionError',
  'ConnectionError',
  'JetStreamNotEnabled',
]);
const STORAGE_SILENCE = new Set(['TimeoutError', 'NoResponders']);
const CONNECTION_MESSAGES = /connection (closed|lost|refused)|disconnect|trying to reconnect/i;

/**
 * A broker failure from what a NATS client threw, or undefined when it is something else. A
 * timeout or "no responders" is the broker's while it is down, or on a storage operation;
 * otherwise it is a service's.
 */
export function asBrokerError(
  error: unknown,
  broker?: BrokerStatus,
  options: { storage?: boolean } = {},
): ParleyError | undefined {
  if (error instanceof ParleyError) return error.code === 'BROKER_UNAVAILABLE' ? error : undefined;
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : '';
  if (CONNECTION_ERRORS.has(name) || CONNECTION_MESSAGES.test(message)) return brokerUnavailable(message || name);
  // Only JetStream answers storage operations: its silence is the broker's (e.g. just restarted).
  if (options.storage && STORAGE_SILENCE.has(name))
    return brokerUnavailable(`JetStream did not answer: ${message || name}`);
  if (broker && !broker.isUp) return brokerUnavailable(message || name || 'reconnecting');
  return undefined;
}

/**
 * Runs one operation on the broker's storage (KV, object store): BROKER_UNAVAILABLE at once
 * while the broker is down, and for a connection failure during the operation.
 */
export async function onBroker<T>(broker: BrokerStatus, operation: () => Promise<T>): Promise<T> {
  broker.assertUp();
  try {
    return await operation();
  } catch (error) {
    throw asBrokerError(error, broker, { storage: true }) ?? error;
  }
}
