/**
 * What the learner is hearing of one turn's answer. The server assumes each `audio` is played
 * in order as soon as it arrives (or when the previous one ends), and the client may correct
 * that with `played` (how much of the turn's audio it has really played, as after a stall).
 * Times are wall-clock milliseconds (performance.now()).
 */
export class PlaybackClock {
  private readonly items: Array<{ sentence: string; durationMs: number; startsAt: number }> = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** An `audio` event was sent now. */
  queue(sentence: string, durationMs: number): void {
    const now = this.now();
    const startsAt = Math.max(now, this.endsAt());
    this.items.push({ sentence, durationMs, startsAt });
  }

  /**
   * The client has played `ms` of this turn's audio by now: sentences before that point started
   * when continuous playback says, the one at that point is playing, later ones follow it.
   */
  played(ms: number): void {
    const now = this.now();
    let position = 0;
    let previousEnd = -Infinity;
    for (const item of this.items) {
      item.startsAt = position <= ms ? now - (ms - position) : previousEnd;
      previousEnd = item.startsAt + item.durationMs;
      position += item.durationMs;
    }
  }

  /** Whether any of the turn's audio has started playing. */
  get started(): boolean {
    return this.items.some((item) => item.startsAt < this.now());
  }

  /** The text of the sentences whose playback has started (what the learner heard). */
  heard(): string {
    const now = this.now();
    return this.items
      .filter((item) => item.startsAt < now)
      .map((item) => item.sentence)
      .join(' ');
  }

  /** When the last queued audio will have finished playing (-Infinity when nothing was queued). */
  endsAt(): number {
    const last = this.items.at(-1);
    return last ? last.startsAt + last.durationMs : -Infinity;
  }
}
