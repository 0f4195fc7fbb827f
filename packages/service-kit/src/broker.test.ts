import type { NatsConnection } from '@nats-io/transport-node';
import { lastValueFrom, Observable, Subject } from 'rxjs';
import { asBrokerError, BrokerStatus } from './broker.js';
import { streamRequest, type MessageClient } from './streaming.js';

/** A connection whose status events the test sends. */
function fakeConnection() {
  const events = new Subject<{ type: string }>();
  const queue: Array<{ type: string }> = [];
  let wake: (() => void) | undefined;
  events.subscribe((e) => (queue.push(e), wake?.()));
  const nats = {
    status: () =>
      (async function* () {
        for (;;) {
          while (queue.length) yield queue.shift()!;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      })(),
  } as unknown as NatsConnection;
  const send = async (type: string) => {
    events.next({ type });
    await new Promise((resolve) => setTimeout(resolve, 0));
  };
  return { nats, send };
}

const silentClient: MessageClient = {
  send: <R>() => new Observable<R>(() => undefined),
  emit: <R>() => new Observable<R>((s) => s.complete()),
};
const options = (broker: BrokerStatus) => ({
  service: 'llm' as const,
  subject: 'parley.v1.llm.chat',
  parse: (reply: unknown) => reply,
  firstReplyTimeoutMs: 10_000,
  idleTimeoutMs: 10_000,
  broker,
});

describe('BrokerStatus and streamRequest', () => {
  it('fails a request at once with BROKER_UNAVAILABLE while the broker is down, and not after it is back', async () => {
    const { nats, send } = fakeConnection();
    const broker = new BrokerStatus(nats);
    await send('disconnect');
    await expect(
      lastValueFrom(streamRequest(silentClient, { request_id: 'abcdefgh' }, options(broker))),
    ).rejects.toMatchObject({
      code: 'BROKER_UNAVAILABLE',
    });
    await send('reconnect');
    expect(broker.isUp).toBe(true);
  });

  it('ends a stream under way with BROKER_UNAVAILABLE when the connection is lost', async () => {
    const { nats, send } = fakeConnection();
    const broker = new BrokerStatus(nats);
    const ended = expect(
      lastValueFrom(streamRequest(silentClient, { request_id: 'abcdefgh' }, options(broker))),
    ).rejects.toMatchObject({
      code: 'BROKER_UNAVAILABLE',
      message: expect.stringMatching(/message broker/),
    });
    await send('disconnect');
    await ended;
  });

  it("tells the broker's failures from a service's", () => {
    const timeout = Object.assign(new Error('timeout'), { name: 'TimeoutError' });
    expect(asBrokerError('Error: Connection lost. Trying to reconnect...')?.code).toBe('BROKER_UNAVAILABLE');
    expect(asBrokerError(Object.assign(new Error('closed'), { name: 'ClosedConnectionError' }))?.code).toBe(
      'BROKER_UNAVAILABLE',
    );
    expect(asBrokerError(timeout, undefined, { storage: true })?.code).toBe('BROKER_UNAVAILABLE');
    expect(asBrokerError(timeout)).toBeUndefined();
    expect(asBrokerError(new Error('the model crashed'))).toBeUndefined();
  });
});
