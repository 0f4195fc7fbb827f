import WebSocket from 'ws';
import { startNatsServer, type TestNatsServer } from '@parley/service-kit/testing';
import { startEdgeGateway, upgradeOutcome, type TestGateway } from './edge-support.js';

const KEY = 'live-key-0123456789';

/**
 * The live socket is admitted by the edge's own rule (the one every HTTP route meets), before the
 * upgrade: a real gateway with API keys on a real broker. No model service is needed: admission
 * happens before any of them is asked.
 */
describe('admission of the live socket, before the upgrade', () => {
  let nats: TestNatsServer;
  let gateway: TestGateway;
  let live: string;

  beforeAll(async () => {
    nats = await startNatsServer();
    gateway = await startEdgeGateway(nats.url, { apiKeys: [KEY], corsOrigins: ['https://allowed.example'] });
    live = `${gateway.url.replace('http', 'ws')}/api/conversation/live?language=en`;
  });

  afterAll(async () => {
    await gateway?.close();
    await nats?.stop();
  });

  it('refuses a socket without a key with 401 in the /api error shape', async () => {
    expect(await upgradeOutcome(live)).toEqual({
      status: 401,
      headers: expect.objectContaining({ 'www-authenticate': 'Bearer realm="parley"' }),
      body: { statusCode: 401, error: 'Unauthorized', code: 'UNAUTHORIZED', message: expect.stringMatching(/no API key was given/) },
    });
  });

  it('refuses a wrong key, in the header or the query, with 401', async () => {
    const header = await upgradeOutcome(live, { headers: { Authorization: 'Bearer not-the-key' } });
    expect(header).toEqual(expect.objectContaining({ status: 401, body: expect.objectContaining({ message: expect.stringMatching(/not valid/) }) }));
    expect(await upgradeOutcome(`${live}&api_key=not-the-key`)).toEqual(expect.objectContaining({ status: 401 }));
  });

  it('upgrades with the right key, as a Bearer header or as ?api_key=', async () => {
    expect(await upgradeOutcome(live, { headers: { Authorization: `Bearer ${KEY}` } })).toBe('upgraded');
    expect(await upgradeOutcome(`${live}&api_key=${KEY}`)).toBe('upgraded');
  });

  it('refuses a browser page on an origin not allowed with 403, and lets clients without an Origin through', async () => {
    const foreign = await upgradeOutcome(`${live}&api_key=${KEY}`, { headers: { Origin: 'https://evil.example' } });
    expect(foreign).toEqual(expect.objectContaining({ status: 403, body: expect.objectContaining({ statusCode: 403, code: 'FORBIDDEN' }) }));
    expect(await upgradeOutcome(`${live}&api_key=${KEY}`, { headers: { Origin: 'https://allowed.example' } })).toBe('upgraded');
    expect(await upgradeOutcome(`${live}&api_key=${KEY}`)).toBe('upgraded');
  });

  it('checks the query after the key (400 in the /api shape)', async () => {
    expect(await upgradeOutcome(`${live}&api_key=${KEY}&difficulty=impossible`)).toEqual(
      expect.objectContaining({ status: 400, body: expect.objectContaining({ statusCode: 400, code: 'INVALID_REQUEST', message: expect.stringMatching(/difficulty/) }) }),
    );
    expect(await upgradeOutcome(`${live}&difficulty=impossible`)).toEqual(expect.objectContaining({ status: 401 }));
  });

  it("counts an open socket in the client's stream cap (429 past it), and frees the slot when it closes", async () => {
    const capped = await startEdgeGateway(nats.url, { apiKeys: [KEY], maxStreamsPerClient: 1 });
    const live = `${capped.url.replace('http', 'ws')}/api/conversation/live?language=en`;
    const held = new WebSocket(`${live}&api_key=${KEY}`);
    await new Promise((resolve, reject) => held.once('open', resolve).once('error', reject));
    expect(await upgradeOutcome(`${live}&api_key=${KEY}`)).toEqual(
      expect.objectContaining({ status: 429, body: expect.objectContaining({ code: 'TOO_MANY_REQUESTS', message: expect.stringMatching(/too many streams/) }) }),
    );
    held.close();
    await new Promise((resolve) => held.once('close', resolve));
    // The gateway's side of the TCP connection closes right after the client's: poll briefly for the freed slot.
    let outcome = await upgradeOutcome(`${live}&api_key=${KEY}`);
    for (let i = 0; i < 50 && outcome !== 'upgraded'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      outcome = await upgradeOutcome(`${live}&api_key=${KEY}`);
    }
    expect(outcome).toBe('upgraded');
    await capped.close();
  });
});
