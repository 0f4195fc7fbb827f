import { ParleyError } from '@parley/contracts';
import type { Response } from 'express';
import { NEVER, Subject } from 'rxjs';
import { GatewayDrain, trackedUntilShutdown } from './gateway-drain.js';

const response = () => ({ locals: {} }) as unknown as Response;

describe('GatewayDrain', () => {
  it('counts a turn on a response it was attached to, and ends it with the shutdown error when told to', () => {
    const drain = new GatewayDrain();
    const res = response();
    drain.attach(res);
    const errors: unknown[] = [];
    const subscription = trackedUntilShutdown(res, NEVER).subscribe({ error: (error: unknown) => errors.push(error) });
    expect(drain.work.count).toBe(1);
    const failure = new ParleyError('SERVICE_UNAVAILABLE', 'shutting down');
    drain.work.stopAll(failure);
    expect(errors).toEqual([failure]);
    expect(drain.work.count).toBe(0);
    subscription.unsubscribe();
  });

  it('forgets a turn that ends by itself, so that a shutdown does not wait for it', async () => {
    const drain = new GatewayDrain();
    const res = response();
    drain.attach(res);
    const turn = new Subject<string>();
    trackedUntilShutdown(res, turn).subscribe();
    expect(drain.work.count).toBe(1);
    turn.complete();
    expect(drain.work.count).toBe(0);
    expect(await drain.work.settled(10)).toBe(true);
  });

  it('leaves the work of a response it was not attached to untouched', () => {
    const drain = new GatewayDrain();
    const work = new Subject<string>();
    expect(trackedUntilShutdown(response(), work)).toBe(work);
    expect(drain.work.count).toBe(0);
  });

  it('refuses with 503 SERVICE_UNAVAILABLE, Retry-After and Connection: close once draining', () => {
    const drain = new GatewayDrain();
    expect(drain.draining).toBe(false);
    drain.begin();
    expect(drain.draining).toBe(true);
    expect(drain.refusal()).toEqual({
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      message: expect.stringMatching(/shutting down.*another replica/),
      headers: { 'Retry-After': '1', Connection: 'close' },
    });
  });
});
