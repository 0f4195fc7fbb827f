import { ParleyError } from '@parley/contracts';

/**
 * At most `slots` tasks run at once; up to `maxQueued` more wait in order; beyond that a request
 * is refused at once with SERVICE_BUSY rather than waiting without bound. A waiting task whose
 * signal aborts leaves the queue.
 */
export class ConcurrencyGate {
  private running = 0;
  private readonly waiting: Array<{ start: () => void; signal?: AbortSignal; onAbort: () => void }> = [];

  constructor(
    readonly slots: number,
    readonly maxQueued: number,
  ) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new ParleyError('CANCELLED', 'cancelled before it started'));
    if (this.running < this.slots) {
      this.running += 1;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.maxQueued) {
      return Promise.reject(
        new ParleyError(
          'SERVICE_BUSY',
          `busy: ${this.running} running and ${this.waiting.length} waiting; try again shortly`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const entry = {
        signal,
        start: () => {
          signal?.removeEventListener('abort', entry.onAbort);
          this.running += 1;
          resolve();
        },
        onAbort: () => {
          const index = this.waiting.indexOf(entry);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(new ParleyError('CANCELLED', 'cancelled while waiting for a free slot'));
        },
      };
      signal?.addEventListener('abort', entry.onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private release(): void {
    this.running -= 1;
    this.waiting.shift()?.start();
  }
}
