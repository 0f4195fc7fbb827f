import { mkdtemp, rm } from 'node:fs/promises';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, type TestNatsServer } from '@parley/service-kit/testing';
import WebSocket from 'ws';
import { selfSignedCertificate, startTestGateway, type TestGateway } from './support.js';

/**
 * TLS_CERT/TLS_KEY: the gateway serves HTTPS and the live socket as WSS (browsers give the
 * microphone only to secure pages). A throwaway self-signed certificate, trusted by this test only.
 */
describe('HTTPS and WSS when TLS_CERT and TLS_KEY are set', () => {
  let nats: TestNatsServer;
  let dir: string;
  let gateway: TestGateway;

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-tls-'));
    gateway = await startTestGateway(nats.url, { tls: selfSignedCertificate(dir) });
  });

  afterAll(async () => {
    await gateway?.close();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers the API over HTTPS and opens the live socket over WSS', async () => {
    const httpsUrl = gateway.url.replace('http://', 'https://');
    const health = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      get(`${httpsUrl}/api/health`, { rejectUnauthorized: false }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      }).on('error', reject);
    });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'healthy' });

    const socket = new WebSocket(`${httpsUrl.replace('https://', 'wss://')}/api/conversation/live?language=es`, { rejectUnauthorized: false });
    const first = await new Promise<{ event: string; data: Record<string, unknown> }>((resolve, reject) => {
      socket.once('message', (data: Buffer) => resolve(JSON.parse(data.toString())));
      socket.once('error', reject);
    });
    expect(first).toEqual({ event: 'ready', data: { session_id: expect.any(String), sample_rate: 16_000 } });
    socket.close();
  });

  it('refuses plain HTTP on the TLS port', async () => {
    await expect(fetch(`${gateway.url}/api/health`)).rejects.toThrow();
  });
});
