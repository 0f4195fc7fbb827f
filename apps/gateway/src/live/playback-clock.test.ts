import { PlaybackClock } from './playback-clock.js';

describe('PlaybackClock', () => {
  let now = 0;
  const clock = () => new PlaybackClock(() => now);

  beforeEach(() => {
    now = 1000;
  });

  it('plays each audio as it arrives, or after the one before it', () => {
    const playback = clock();
    expect(playback.started).toBe(false);
    playback.queue('One.', 1000);
    playback.queue('Two.', 500); // arrives while One plays: starts at 2000
    expect(playback.heard()).toBe('');
    now = 1001;
    expect(playback.heard()).toBe('One.');
    now = 2000.5;
    expect(playback.heard()).toBe('One. Two.');
    expect(playback.endsAt()).toBe(2500);
    now = 3000;
    playback.queue('Three.', 100); // arrives after the end: starts now
    expect(playback.endsAt()).toBe(3100);
  });

  it('follows the client when it says how much it has played (a stall)', () => {
    const playback = clock();
    playback.queue('One.', 1000);
    playback.queue('Two.', 1000);
    now = 2500; // the server would think Two is playing...
    playback.played(200); // ...but the client stalled: 200 ms of One so far
    expect(playback.heard()).toBe('One.');
    expect(playback.endsAt()).toBe(2500 - 200 + 2000);
    playback.played(0);
    expect(playback.started).toBe(false);
  });
});
