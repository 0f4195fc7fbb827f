import { Observable, Subject, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { ParleyError } from '@parley/contracts';
import { serveCancellable, streamRequest, type CancelListener, type MessageClient } from './streaming.js';

/** A MessageClient whose replies the test pushes by hand, recording what was emitted. */
function fakeClient() {
  const replies = new Subject<unknown>();
  const emitted: Array<{ pattern: string; data: unknown }> = [];
  let subscribed = false;
  const client: MessageClient = {
    send: <R>() =>
      new Observable<R>((subscriber) => {
        subscribed = true;
        const subscription = replies.subscribe(subscriber as never);
        return () => subscription.unsubscribe();
      }),
    emit: <R>(pattern: string, data: unknown) => {
      emitted.push({ pattern, data });
      return new Observable<R>((s) => s.complete());
    },
  };
  return { client, replies, emitted, isSubscribed: () => subscribed };
}

const options = {
  service: 'llm' as const,
  subject: 'parley.v1.llm.chat',
  parse: (reply: unknown) => reply as { n: number },
  firstReplyTimeoutMs: 200,
  idleTimeoutMs: 100,
};
const payload = { request_id: 'req-12345678' };

describe('streamRequest (caller side)', () => {
  it('passes every reply through in order and sends no cancel when the stream completes', async () => {
    const { client, replies, emitted } = fakeClient();
    const all = lastValueFrom(streamRequest(client, payload, options).pipe(toArray()));
    replies.next({ n: 1 });
    replies.next({ n: 2 });
    replies.complete();
    expect(await all).toEqual([{ n: 1 }, { n: 2 }]);
    expect(emitted).toEqual([]);
  });

  it('publishes the per-request cancel when the caller unsubscribes mid-stream', async () => {
    const { client, replies, emitted } = fakeClient();
    const first = firstValueFrom(streamRequest(client, payload, options));
    replies.next({ n: 1 });
    await first;
    expect(emitted).toEqual([{ pattern: 'parley.v1.llm.cancel.req-12345678', data: payload }]);
  });

  it('fails with TIMEOUT naming the first-reply phase when the first reply never comes, and cancels', async () => {
    const { client, emitted } = fakeClient();
    await expect(lastValueFrom(streamRequest(client, payload, options))).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringMatching(/sent nothing for 200 ms \(waiting for the first reply\)/),
    });
    expect(emitted).toHaveLength(1);
  });

  it('gives the first reply its own (longer) timeout: the idle timeout starts only after it', async () => {
    const { client, replies } = fakeClient();
    const all = lastValueFrom(streamRequest(client, payload, options).pipe(toArray()));
    // Later than the idle timeout (100 ms), within the first-reply timeout (200 ms).
    setTimeout(() => {
      replies.next({ n: 1 });
      replies.complete();
    }, 150);
    expect(await all).toEqual([{ n: 1 }]);
  });

  it('fails with TIMEOUT when the service goes silent mid-stream', async () => {
    const { client, replies } = fakeClient();
    const all = lastValueFrom(streamRequest(client, payload, options));
    replies.next({ n: 1 });
    await expect(all).rejects.toThrow(/sent nothing for 100 ms \(mid-stream, after 1 reply\)/);
  });

  it('drops heartbeats, which do not count as the first reply, and fails fast when they stop', async () => {
    const { client, replies } = fakeClient();
    const heartbeat = { heartbeat: true };
    const withLiveness = { ...options, firstReplyTimeoutMs: 400, idleTimeoutMs: 400, livenessTimeoutMs: 60 };
    const all = lastValueFrom(streamRequest(client, payload, withLiveness).pipe(toArray()));
    const beats = setInterval(() => replies.next(heartbeat), 20);
    await new Promise((resolve) => setTimeout(resolve, 150)); // alive, well past the liveness timeout
    replies.next({ n: 1 });
    clearInterval(beats); // the replica dies
    await expect(all).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringMatching(/no heartbeat for 60 ms/),
    });
  });

  it('times out waiting for the first reply while heartbeats say the service is alive', async () => {
    const { client, replies } = fakeClient();
    const beats = setInterval(() => replies.next({ heartbeat: true }), 20);
    const all = lastValueFrom(streamRequest(client, payload, { ...options, livenessTimeoutMs: 60 }));
    await expect(all).rejects.toThrow(/sent nothing for 200 ms \(waiting for the first reply\)/);
    clearInterval(beats);
  });

  it("turns the service's error body into a ParleyError with its code, without a cancel", async () => {
    const { client, replies, emitted } = fakeClient();
    const all = lastValueFrom(streamRequest(client, payload, options));
    replies.error({ code: 'INVALID_REQUEST', message: 'text: must not be empty' });
    await expect(all).rejects.toEqual(new ParleyError('INVALID_REQUEST', 'text: must not be empty'));
    expect(emitted).toEqual([]);
  });

  it('says the service is not running when no replica answers', async () => {
    const { client, replies } = fakeClient();
    const all = lastValueFrom(streamRequest(client, payload, options));
    const noResponders = new Error('Empty response. There are no subscribers listening to that message');
    noResponders.name = 'EmptyResponseException';
    replies.error(noResponders);
    await expect(all).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: expect.stringMatching(/llm service is not running/),
    });
  });
});

/** A CancelListener the test can fire. */
function fakeNats() {
  const callbacks = new Map<string, () => void>();
  const listener: CancelListener = {
    subscribe: (subject, opts) => {
      callbacks.set(subject, () => opts.callback(null, {}));
      return { unsubscribe: () => callbacks.delete(subject) };
    },
  };
  return { listener, cancel: (subject: string) => callbacks.get(subject)?.(), subjects: () => [...callbacks.keys()] };
}

describe('serveCancellable (service side)', () => {
  it('stops the work when the request is cancelled, and unsubscribes from the cancel subject', async () => {
    const nats = fakeNats();
    let tornDown = false;
    const work = new Observable<number>((subscriber) => {
      subscriber.next(1);
      return () => (tornDown = true);
    });
    const stopped: string[] = [];
    const values: number[] = [];
    const done = new Promise<void>((resolve) =>
      serveCancellable(nats.listener, work, {
        service: 'tts',
        requestId: 'abcdefgh',
        maxDurationMs: 10_000,
        onStopped: (reason) => stopped.push(reason),
      }).subscribe({ next: (v) => values.push(v), complete: resolve }),
    );
    expect(nats.subjects()).toEqual(['parley.v1.tts.cancel.abcdefgh']);
    nats.cancel('parley.v1.tts.cancel.abcdefgh');
    await done;
    expect(values).toEqual([1]);
    expect(tornDown).toBe(true);
    expect(stopped).toEqual(['cancelled']);
    expect(nats.subjects()).toEqual([]);
  });

  it('stops work that outlives its deadline', async () => {
    const nats = fakeNats();
    const stopped: string[] = [];
    await lastValueFrom(
      serveCancellable(nats.listener, new Observable<number>(() => undefined), {
        service: 'llm',
        requestId: 'abcdefgh',
        maxDurationMs: 30,
        onStopped: (reason) => stopped.push(reason),
      }),
      { defaultValue: undefined },
    );
    expect(stopped).toEqual(['deadline']);
  });

  it('lets work that completes on its own finish without calling onStopped', async () => {
    const nats = fakeNats();
    const stopped: string[] = [];
    const values = await lastValueFrom(
      serveCancellable(nats.listener, new Observable<number>((s) => (s.next(7), s.complete())), {
        service: 'stt',
        requestId: 'abcdefgh',
        maxDurationMs: 1000,
        onStopped: (reason) => stopped.push(reason),
      }).pipe(toArray()),
    );
    expect(values).toEqual([7]);
    expect(stopped).toEqual([]);
    expect(nats.subjects()).toEqual([]);
  });
});
