import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, type TestNatsServer } from '@parley/service-kit/testing';
import { JetStreamKvLearnerStore } from '../src/learners/jetstream-kv.learner-store.js';
import { LearnerProgressUseCase } from '../src/learners/learner-progress.use-case.js';

/** Learner progress on a real JetStream KV bucket, as two gateway replicas would use it. */
describe('JetStreamKvLearnerStore', () => {
  let nats: TestNatsServer;
  let connections: NatsConnection[];
  let replicaA: LearnerProgressUseCase;
  let replicaB: LearnerProgressUseCase;

  beforeAll(async () => {
    nats = await startNatsServer();
    connections = await Promise.all([connect({ servers: nats.url }), connect({ servers: nats.url })]);
    replicaA = new LearnerProgressUseCase(new JetStreamKvLearnerStore(connections[0]!, 'learners_test'));
    replicaB = new LearnerProgressUseCase(new JetStreamKvLearnerStore(connections[1]!, 'learners_test'));
  });

  afterAll(async () => {
    await Promise.all(connections.map((c) => c.close()));
    await nats.stop();
  });

  const turn = (n: number) => ({
    language: 'es',
    feedback: { corrections: [{ original: `e${n}`, corrected: `c${n}`, explanation: '' }], translation: '', vocabulary: [{ word: `w${n}`, translation: `t${n}` }] },
    at: new Date(),
  });

  it('counts every one of 10 concurrent turns of one learner written through two replicas', async () => {
    await Promise.all(Array.from({ length: 10 }, (_, n) => (n % 2 ? replicaA : replicaB).recordTurn({ id: 'ana' }, turn(n))));
    const progress = await replicaA.progress({ id: 'ana' });
    expect(progress.languages).toEqual({ es: { turns: 10, words: 10, corrections: 10 } });
    expect(progress.vocabulary.map((w) => w.word).sort()).toEqual(Array.from({ length: 10 }, (_, n) => `w${n}`).sort());
    expect(progress.recent_corrections).toHaveLength(10);
  });

  it('answers empty progress for a learner never seen, and forgets a learner', async () => {
    expect(await replicaB.progress({ id: 'nobody' })).toEqual({ learner_id: 'nobody', languages: {}, vocabulary: [], recent_corrections: [] });
    await replicaA.recordTurn({ id: 'gone' }, turn(1));
    expect((await replicaB.progress({ id: 'gone' })).languages.es?.turns).toBe(1);
    await replicaB.forget({ id: 'gone' });
    expect((await replicaA.progress({ id: 'gone' })).vocabulary).toEqual([]);
    await replicaA.recordTurn({ id: 'gone' }, turn(2));
    expect((await replicaB.progress({ id: 'gone' })).languages).toEqual({ es: { turns: 1, words: 1, corrections: 1 } });
  });

  it('keeps the learners of two API keys apart, even under the same learner id', async () => {
    await replicaA.recordTurn({ id: 'sam', space: 'key1' }, turn(1));
    await replicaA.recordTurn({ id: 'sam', space: 'key1' }, turn(2));
    await replicaB.recordTurn({ id: 'sam', space: 'key2' }, turn(3));
    expect((await replicaB.progress({ id: 'sam', space: 'key1' })).languages.es?.turns).toBe(2);
    expect((await replicaA.progress({ id: 'sam', space: 'key2' })).languages.es?.turns).toBe(1);
    expect((await replicaA.progress({ id: 'sam' })).languages).toEqual({});
    await replicaB.forget({ id: 'sam', space: 'key2' });
    expect((await replicaA.progress({ id: 'sam', space: 'key1' })).learner_id).toBe('sam');
    expect((await replicaA.progress({ id: 'sam', space: 'key1' })).languages.es?.turns).toBe(2);
  });
});
