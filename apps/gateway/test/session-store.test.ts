import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, type TestNatsServer } from '@parley/service-kit/testing';
import { JetStreamKvSessionStore } from '../src/sessions/jetstream-kv.session-store.js';

/** The session store on a real JetStream KV bucket, as two gateway replicas would use it. */
describe('JetStreamKvSessionStore', () => {
  let nats: TestNatsServer;
  let connections: NatsConnection[];
  let replicaA: JetStreamKvSessionStore;
  let replicaB: JetStreamKvSessionStore;

  beforeAll(async () => {
    nats = await startNatsServer();
    connections = await Promise.all([connect({ servers: nats.url }), connect({ servers: nats.url })]);
    const options = { bucket: 'sessions_test', ttlSeconds: 3600, maxMessages: 6 };
    replicaA = new JetStreamKvSessionStore(connections[0]!, options);
    replicaB = new JetStreamKvSessionStore(connections[1]!, options);
  });

  afterAll(async () => {
    await Promise.all(connections.map((c) => c.close()));
    await nats.stop();
  });

  const turn = (n: number) =>
    [
      { role: 'user' as const, content: `question ${n}` },
      { role: 'assistant' as const, content: `answer ${n}` },
    ] as [{ role: 'user'; content: string }, { role: 'assistant'; content: string }];

  it('keeps every turn when two replicas append to the same session at the same time', async () => {
    await Promise.all([replicaA.appendTurn('race', turn(1)), replicaB.appendTurn('race', turn(2)), replicaA.appendTurn('race', turn(3))]);
    const messages = await replicaB.messages('race');
    expect(messages).toHaveLength(6);
    expect(messages.map((m) => m.content).sort()).toEqual(['answer 1', 'answer 2', 'answer 3', 'question 1', 'question 2', 'question 3']);
  });

  it('keeps only the most recent messages beyond the limit', async () => {
    for (let n = 1; n <= 5; n++) await replicaA.appendTurn('long', turn(n));
    const messages = await replicaB.messages('long');
    expect(messages.map((m) => m.content)).toEqual(['question 3', 'answer 3', 'question 4', 'answer 4', 'question 5', 'answer 5']);
  });

  it('forgets a cleared session and starts it afresh', async () => {
    await replicaA.appendTurn('cleared', turn(1));
    await replicaB.clear('cleared');
    expect(await replicaA.messages('cleared')).toEqual([]);
    await replicaA.appendTurn('cleared', turn(2));
    expect(await replicaB.messages('cleared')).toHaveLength(2);
  });
});
