import { Subject } from 'rxjs';
import { acceptRequestId, currentRequestId, inRequestContext, runWithRequestId } from './request-context.js';

describe('the request context', () => {
  it("keeps a sensible caller's id and replaces anything else with a new one", () => {
    expect(acceptRequestId('turn-42.a:b_c')).toBe('turn-42.a:b_c');
    for (const bad of [undefined, '', 'has space', 'x'.repeat(129), 'semi;colon', ['a']]) {
      expect(acceptRequestId(bad)).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it('is re-entered for values that arrive from outside the context (as NATS replies do)', async () => {
    const replies = new Subject<number>();
    const seen: Array<string | undefined> = [];
    runWithRequestId('turn-1', () => replies.pipe(inRequestContext()).subscribe(() => seen.push(currentRequestId())));
    const unbound: Array<string | undefined> = [];
    runWithRequestId('turn-2', () => replies.subscribe(() => unbound.push(currentRequestId())));
    // Emitted from a timer started outside any request, like a message from the NATS socket.
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        replies.next(1);
        resolve();
      }, 0),
    );
    expect(seen).toEqual(['turn-1']);
    expect(unbound).toEqual([undefined]);
  });
});
