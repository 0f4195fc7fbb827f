import { Logger } from '@nestjs/common';
import { ServerNats } from '@nestjs/microservices';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { ParleyError, type ServiceName } from '@parley/contracts';
import { Observable } from 'rxjs';

/** The streaming requests this process is working on, so that a shutdown can wait for them. */
export class InFlightRequests {
  private readonly running = new Set<(error: ParleyError) => void>();
  private readonly idle = new Set<() => void>();

  get count(): number {
    return this.running.size;
  }

  /** `work`, counted while it runs; `stopAll` can end it with an error. */
  track<T>(work: Observable<T>): Observable<T> {
    return new Observable<T>((subscriber) => {
      const fail = (error: ParleyError) => subscriber.error(error);
      this.running.add(fail);
      subscriber.add(work.subscribe(subscriber));
      return () => {
        this.running.delete(fail);
        if (this.running.size === 0) for (const resolve of this.idle) resolve();
      };
    });
  }

  /** Resolves when nothing runs any more, or after `timeoutMs`; says whether it drained. */
  async settled(timeoutMs: number): Promise<boolean> {
    if (this.running.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    let done: () => void = () => undefined;
    const drained = new Promise<boolean>((resolve) => {
      done = () => resolve(true);
      this.idle.add(done);
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await drained;
    clearTimeout(timer);
    this.idle.delete(done);
    return result;
  }

  /** Ends everything still running with `error` (sent to each caller). */
  stopAll(error: ParleyError): void {
    for (const fail of [...this.running]) fail(error);
  }
}

/**
 * Optional provider (`{ draining: boolean }`): while it says draining, `/readyz` answers 503 so
 * that the balancer stops sending work to a replica that is shutting down (the gateway provides it).
 */
export const DRAIN_STATE = Symbol('drain-state');
export interface DrainState {
  readonly draining: boolean;
}

/** One per process: every streaming handler (handleStreamRequest) is tracked here. */
export const IN_FLIGHT_REQUESTS = new InFlightRequests();

/**
 * NestJS's NATS server, shut down gracefully: on SIGTERM it first leaves its queue groups (new
 * requests go to the other replicas), lets the requests under way finish for up to `graceMs`,
 * ends those still running with SERVICE_UNAVAILABLE (the caller gets an error at once, rather
 * than waiting for its liveness timeout), and only then closes its connection.
 */
export class DrainingNatsServer extends ServerNats {
  private readonly requestSubscriptions: Subscription[] = [];
  private readonly shutdownLogger: Logger;

  constructor(
    options: ConstructorParameters<typeof ServerNats>[0],
    private readonly drain: { service: ServiceName; graceMs: number; inFlight?: InFlightRequests },
  ) {
    super(options);
    this.shutdownLogger = new Logger(`${drain.service}-shutdown`);
  }

  override bindEvents(client: NatsConnection): void {
    const recording = Object.create(client) as NatsConnection;
    recording.subscribe = (subject, opts) => {
      const subscription = client.subscribe(subject, opts);
      this.requestSubscriptions.push(subscription);
      return subscription;
    };
    super.bindEvents(recording);
  }

  /**
   * A request that is not a NestJS packet (`{"pattern","data","id"}` as JSON: bytes that are not
   * JSON, or JSON without an id) is answered at once with INVALID_REQUEST saying what a request
   * must look like. NestJS would log a stack trace and send nothing, so a client in another
   * language (or a bug) would wait for its own timeout with no clue why (issue 12, bad input).
   */
  override async handleMessage(channel: string, natsMsg: Msg): Promise<any> {
    const problem = notARequestPacket(natsMsg);
    if (problem === undefined) return super.handleMessage(channel, natsMsg);
    new Logger(`${this.drain.service}-transport`).warn(`refused a message on ${channel}: ${problem}`);
    if (!natsMsg.reply) return;
    const packet = {
      id: null,
      err: new ParleyError('INVALID_REQUEST', `${problem}; a request is JSON {"pattern": "${channel}", "data": {...}, "id": "<any string>"}`).toBody(),
      isDisposed: true,
    };
    natsMsg.respond(JSON.stringify(packet));
  }

  override async close(): Promise<void> {
    const inFlight = this.drain.inFlight ?? IN_FLIGHT_REQUESTS;
    for (const subscription of this.requestSubscriptions.splice(0)) subscription.unsubscribe();
    if (inFlight.count > 0) {
      this.shutdownLogger.log(`draining: ${inFlight.count} request(s) under way, waiting up to ${this.drain.graceMs} ms`);
      const drained = await inFlight.settled(this.drain.graceMs);
      if (!drained) {
        this.shutdownLogger.warn(`grace period over: ending ${inFlight.count} request(s) still under way`);
        inFlight.stopAll(
          new ParleyError('SERVICE_UNAVAILABLE', `the ${this.drain.service} replica shut down before finishing this request; try again`),
        );
      }
      // The last replies (a `done`, an error, the end of the stream) are published just after the
      // work ends: let them leave before the connection closes (close does not flush).
      await new Promise((resolve) => setTimeout(resolve, 50));
      await this.unwrap<NatsConnection>().flush().catch(() => undefined);
    }
    await super.close();
  }
}

/** Why `msg` is not a request NestJS can route (undefined when it is, or when it is an event: no reply subject). */
function notARequestPacket(msg: Msg): string | undefined {
  let value: unknown;
  try {
    value = msg.json();
  } catch {
    return 'the message is not JSON';
  }
  if (!msg.reply) return undefined;
  const id = (value as { id?: unknown } | null)?.id;
  if (typeof value !== 'object' || value === null || Array.isArray(value) || (typeof id !== 'string' && typeof id !== 'number')) {
    return 'the message is not a request packet: it has no "id"';
  }
  return undefined;
}
