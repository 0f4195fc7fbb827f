/**
 * Counts the streams each client has open on this replica and refuses one past the cap, so one
 * client cannot hold every model slot. In memory: a client spread over N replicas may hold N times
 * the cap (the shared rate limit still bounds how fast it can open them).
 */
export class ConcurrentStreams {
  private readonly open = new Map<string, number>();

  constructor(readonly maxPerClient: number) {}

  /** Opens a stream for `client`: a function that closes it (call it once), or undefined at the cap. */
  tryOpen(client: string): (() => void) | undefined {
    const count = this.open.get(client) ?? 0;
    if (this.maxPerClient > 0 && count >= this.maxPerClient) return undefined;
    this.open.set(client, count + 1);
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      const left = (this.open.get(client) ?? 1) - 1;
      if (left > 0) this.open.set(client, left);
      else this.open.delete(client);
    };
  }

  openCount(client: string): number {
    return this.open.get(client) ?? 0;
  }
}
