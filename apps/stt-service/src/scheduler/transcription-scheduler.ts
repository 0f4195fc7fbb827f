import { ParleyError } from '@parley/contracts';

/** What a partial resolves to when its turn came too late to be of use. */
export const DROPPED = Symbol('dropped');

interface Waiting {
  start(): void;
  /** Partials only: still worth running? */
  isStale?: () => boolean;
  drop?: () => void;
}

export interface SchedulerOptions {
  /** Partials allowed to wait (at most one per stream); beyond, the replica is saturated and partials pause. */
  maxWaitingPartials: number;
  /** A partial was dropped because it was stale when its turn came. */
  onStaleDropped?: () => void;
}

/**
 * In front of whisper-server (which serves one request at a time per child): at most `slots`
 * transcriptions run at once. Waiting work is served finals first: an uploaded file or the end
 * of a live utterance (someone waits for it) goes before any partial, and a partial that is
 * stale when its turn comes (its utterance ended meanwhile) is dropped, not run. Live streams ask
 * `acceptsPartials` before queueing one, so partials pause while the replica is saturated.
 */
export class TranscriptionScheduler {
  private running = 0;
  private readonly finals: Waiting[] = [];
  private readonly partials: Waiting[] = [];

  constructor(
    readonly slots: number,
    /** Finals allowed to wait; beyond, a new one is refused with SERVICE_BUSY. */
    readonly maxQueued: number,
    private readonly options: SchedulerOptions,
  ) {}

  get active(): number {
    return this.running;
  }

  /** Transcriptions waiting for a whisper-server (finals and partials), for the queue-depth gauge. */
  get queued(): number {
    return this.finals.length + this.partials.length;
  }

  get waiting(): { finals: number; partials: number } {
    return { finals: this.finals.length, partials: this.partials.length };
  }

  /** False while a final waits or enough partials wait already (saturated): a new one would come late. */
  get acceptsPartials(): boolean {
    return this.finals.length === 0 && this.partials.length < this.options.maxWaitingPartials;
  }

  /** Runs a final (or an upload's transcription): ahead of every waiting partial. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw new ParleyError('CANCELLED', 'cancelled before it started');
    if (this.running >= this.slots && this.finals.length >= this.maxQueued) {
      throw new ParleyError('SERVICE_BUSY', `busy: ${this.running} transcribing and ${this.finals.length} waiting; try again shortly`);
    }
    await this.enqueue(this.finals, signal);
    return this.runHolding(task);
  }

  /**
   * Runs a partial when nothing more urgent waits; resolves DROPPED without running it if
   * `isStale()` says so when its turn comes.
   */
  async runPartial<T>(task: () => Promise<T>, options: { signal?: AbortSignal; isStale: () => boolean }): Promise<T | typeof DROPPED> {
    if (options.signal?.aborted) throw new ParleyError('CANCELLED', 'cancelled before it started');
    const started = await this.enqueue(this.partials, options.signal, options.isStale);
    if (!started) return DROPPED;
    return this.runHolding(task);
  }

  private async runHolding<T>(task: () => Promise<T>): Promise<T> {
    try {
      return await task();
    } finally {
      this.running -= 1;
      this.next();
    }
  }

  /** Resolves true once the caller holds a slot, false if it was dropped as stale. */
  private enqueue(queue: Waiting[], signal?: AbortSignal, isStale?: () => boolean): Promise<boolean> {
    if (this.running < this.slots && (queue === this.finals || this.finals.length === 0)) {
      if (isStale?.()) {
        this.options.onStaleDropped?.();
        return Promise.resolve(false);
      }
      this.running += 1;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve, reject) => {
      const onAbort = () => {
        const index = queue.indexOf(entry);
        if (index >= 0) queue.splice(index, 1);
        reject(new ParleyError('CANCELLED', 'cancelled while waiting for the speech recogniser'));
      };
      const entry: Waiting = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          this.running += 1;
          resolve(true);
        },
        isStale,
        drop: () => {
          signal?.removeEventListener('abort', onAbort);
          this.options.onStaleDropped?.();
          resolve(false);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(entry);
    });
  }

  /** Gives free slots to finals first, then to partials that are still worth running. */
  private next(): void {
    while (this.running < this.slots) {
      const final = this.finals.shift();
      if (final) {
        final.start();
        continue;
      }
      const partial = this.partials.shift();
      if (!partial) return;
      if (partial.isStale?.()) partial.drop?.();
      else partial.start();
    }
  }
}
