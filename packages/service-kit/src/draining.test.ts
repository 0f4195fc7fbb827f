import { lastValueFrom, NEVER, Subject, timer } from 'rxjs';
import { InFlightRequests } from './draining.js';

describe('InFlightRequests', () => {
  it('counts work while it runs and says when it has all ended', async () => {
    const inFlight = new InFlightRequests();
    const work = new Subject<number>();
    const running = lastValueFrom(inFlight.track(work));
    expect(inFlight.count).toBe(1);
    const settled = inFlight.settled(1000);
    work.next(1);
    work.complete();
    await expect(running).resolves.toBe(1);
    await expect(settled).resolves.toBe(true);
    expect(inFlight.count).toBe(0);
  });

  it('gives up waiting after the grace period, and ends what still runs with the given error', async () => {
    const inFlight = new InFlightRequests();
    const running = lastValueFrom(inFlight.track(NEVER));
    await expect(inFlight.settled(30)).resolves.toBe(false);
    inFlight.stopAll(Object.assign(new Error('shutting down'), { code: 'SERVICE_UNAVAILABLE' }) as never);
    await expect(running).rejects.toThrow('shutting down');
    expect(inFlight.count).toBe(0);
    await lastValueFrom(timer(1));
  });
});
