import { ParleyError } from '@parley/contracts';
import { DROPPED, TranscriptionScheduler } from './transcription-scheduler.js';

/** A task that finishes when told to, recording when it started. */
function gatedTask(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { run: async () => { log.push(name); await done; return name; }, finish };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('TranscriptionScheduler', () => {
  it('runs a waiting final before partials that waited longer', async () => {
    const log: string[] = [];
    const scheduler = new TranscriptionScheduler(1, 8, { maxWaitingPartials: 4 });
    const busy = gatedTask(log, 'busy');
    const partial = gatedTask(log, 'partial');
    const final = gatedTask(log, 'final');
    const running = scheduler.run(busy.run);
    const partialDone = scheduler.runPartial(partial.run, { isStale: () => false });
    const finalDone = scheduler.run(final.run);
    await tick();
    expect(scheduler.waiting).toEqual({ finals: 1, partials: 1 });
    busy.finish();
    await running;
    await tick();
    expect(log).toEqual(['busy', 'final']);
    final.finish();
    await finalDone;
    await tick();
    partial.finish();
    await expect(partialDone).resolves.toBe('partial');
    expect(log).toEqual(['busy', 'final', 'partial']);
  });

  it('drops a partial that is stale when its turn comes, and counts it', async () => {
    let dropped = 0;
    let stale = false;
    const log: string[] = [];
    const scheduler = new TranscriptionScheduler(1, 8, { maxWaitingPartials: 4, onStaleDropped: () => dropped++ });
    const busy = gatedTask(log, 'busy');
    const running = scheduler.run(busy.run);
    const partial = scheduler.runPartial(async () => 'ran', { isStale: () => stale });
    stale = true; // its utterance ended while it waited
    busy.finish();
    await running;
    await expect(partial).resolves.toBe(DROPPED);
    expect(dropped).toBe(1);
    expect(log).toEqual(['busy']);
  });

  it('pauses partials while a final waits or enough partials wait', async () => {
    const log: string[] = [];
    const scheduler = new TranscriptionScheduler(1, 8, { maxWaitingPartials: 2 });
    const busy = gatedTask(log, 'busy');
    const running = scheduler.run(busy.run);
    expect(scheduler.acceptsPartials).toBe(true);
    const waiting = [1, 2].map(() => scheduler.runPartial(async () => 'p', { isStale: () => false }));
    expect(scheduler.acceptsPartials).toBe(false);
    busy.finish();
    await running;
    await Promise.all(waiting);
    expect(scheduler.acceptsPartials).toBe(true);
    const again = gatedTask(log, 'again');
    const second = scheduler.run(again.run);
    const queuedFinal = scheduler.run(async () => 'final');
    expect(scheduler.acceptsPartials).toBe(false);
    again.finish();
    await Promise.all([second, queuedFinal]);
  });

  it('refuses a final beyond the queue limit with SERVICE_BUSY and lets a cancelled one leave the queue', async () => {
    const log: string[] = [];
    const scheduler = new TranscriptionScheduler(1, 1, { maxWaitingPartials: 1 });
    const busy = gatedTask(log, 'busy');
    const running = scheduler.run(busy.run);
    const abort = new AbortController();
    const queued = scheduler.run(async () => 'queued', abort.signal);
    await expect(scheduler.run(async () => 'refused')).rejects.toMatchObject({ code: 'SERVICE_BUSY' });
    abort.abort();
    await expect(queued).rejects.toBeInstanceOf(ParleyError);
    expect(scheduler.waiting.finals).toBe(0);
    busy.finish();
    await running;
    expect(scheduler.active).toBe(0);
  });
});
