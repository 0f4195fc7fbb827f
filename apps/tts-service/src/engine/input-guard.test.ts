import { unsafeInput } from './input-guard.js';

const voice = { id: 'tiny', speakers: 2 };
const ok = { voice: 'tiny', text: 'Hello.', speakerId: 1, speed: 1 };

describe('unsafeInput (the check before native code)', () => {
  it('passes a sound request', () => {
    expect(unsafeInput(ok, voice)).toBeUndefined();
    expect(unsafeInput({ ...ok, speed: 0.25 }, voice)).toBeUndefined();
    expect(unsafeInput({ ...ok, speed: 4 }, voice)).toBeUndefined();
  });

  it.each([
    [{ text: '' }, /text must not be empty/],
    [{ text: ' \n\t ' }, /text must not be empty/],
    [{ text: 'a'.repeat(5001) }, /at most 5000 characters/],
    [{ speed: 0 }, /speed must be a number from 0.25 to 4/],
    [{ speed: -1 }, /speed must be/],
    [{ speed: Number.NaN }, /speed must be/],
    [{ speed: Infinity }, /speed must be/],
    [{ speed: null as unknown as number }, /speed must be/],
    [{ speed: 4.01 }, /speed must be/],
    [{ speakerId: 2 }, /speaker_id 2 is out of range: voice tiny has speaker ids 0-1/],
    [{ speakerId: -1 }, /speaker_id -1 is out of range/],
    [{ speakerId: 0.5 }, /speaker_id 0.5 is out of range/],
  ])('refuses %j', (change, message) => {
    expect(unsafeInput({ ...ok, ...change }, voice)).toMatch(message);
  });
});
