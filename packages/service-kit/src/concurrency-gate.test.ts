import { ConcurrencyGate } from './concurrency-gate.js';

/** A task the test finishes by hand. */
function deferredTask() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { task: () => done, finish };
}

describe('ConcurrencyGate', () => {
  it('runs at most `slots` tasks at once and starts waiting ones in order', async () => {
    const gate = new ConcurrencyGate(2, 5);
    const tasks = [deferredTask(), deferredTask(), deferredTask()];
    const started: number[] = [];
    const runs = tasks.map((t, i) => gate.run(async () => (started.push(i), t.task())));
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(gate.queued).toBe(1);
    tasks[1]!.finish();
    await runs[1];
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    tasks[0]!.finish();
    tasks[2]!.finish();
    await Promise.all(runs);
    expect(gate.active).toBe(0);
  });

  it('refuses at once with SERVICE_BUSY when the queue is full', async () => {
    const gate = new ConcurrencyGate(1, 1);
    const blocker = deferredTask();
    const running = gate.run(blocker.task);
    const waiting = gate.run(async () => 'second');
    await expect(gate.run(async () => 'third')).rejects.toMatchObject({ code: 'SERVICE_BUSY' });
    blocker.finish();
    await running;
    await expect(waiting).resolves.toBe('second');
  });

  it('drops a waiting task whose caller aborted, without running it', async () => {
    const gate = new ConcurrencyGate(1, 4);
    const blocker = deferredTask();
    const running = gate.run(blocker.task);
    const abort = new AbortController();
    let ran = false;
    const waiting = gate.run(async () => (ran = true), abort.signal);
    abort.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(gate.queued).toBe(0);
    blocker.finish();
    await running;
    expect(ran).toBe(false);
  });

  it('frees the slot when a task fails', async () => {
    const gate = new ConcurrencyGate(1, 0);
    await expect(gate.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run(async () => 'next')).resolves.toBe('next');
  });
});
