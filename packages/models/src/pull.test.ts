import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelEntry } from './manifest.js';
import { readLock } from './lock.js';
import type { ProgressEvent } from './progress.js';
import { pullModel, PullError } from './pull.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

interface ServerState {
  files: Map<string, Buffer>;
  /** 'ignore-range' answers every request with 200 and the whole file. */
  mode: 'normal' | 'ignore-range';
  /** The next `dropsLeft` responses send `dropAfter` bytes, then the connection is cut. */
  dropsLeft: number;
  dropAfter: number;
  requests: { path: string; range?: string }[];
}

let server: Server;
let base: string;
let state: ServerState;
let modelsDir: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    state.requests.push({ path, range: req.headers.range });
    const body = state.files.get(path);
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    let start = 0;
    let status = 200;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && state.mode !== 'ignore-range') {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      status = 206;
    }
    const slice = body.subarray(start);
    const headers: Record<string, string | number> = { 'Content-Length': slice.length, 'Accept-Ranges': 'bytes' };
    if (status === 206) headers['Content-Range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(status, headers);
    if (state.dropsLeft > 0) {
      state.dropsLeft--;
      res.write(slice.subarray(0, state.dropAfter), () => setTimeout(() => res.socket?.destroy(), 50));
      return;
    }
    res.end(slice);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(async () => {
  state = { files: new Map(), mode: 'normal', dropsLeft: 0, dropAfter: 0, requests: [] };
  modelsDir = await mkdtemp(join(tmpdir(), 'parley-models-'));
});

afterEach(async () => {
  await rm(modelsDir, { recursive: true, force: true });
});

function serve(path: string, body: Buffer): string {
  state.files.set(path, body);
  return `${base}${path}`;
}

function entryFor(url: string, body: Buffer, overrides: Partial<ModelEntry['files'][number]> = {}): ModelEntry {
  return {
    id: 'test-model',
    role: 'stt',
    description: 'test',
    languages: 'multilingual',
    license: 'MIT',
    licenseUrl: 'https://example.invalid/license',
    files: [{ name: 'model.bin', url, size: body.length, sizeExact: true, sha256: sha256(body), ...overrides }],
  };
}

const dest = () => join(modelsDir, 'stt', 'test-model', 'model.bin');
const part = () => `${dest()}.part`;

describe('pullModel', () => {
  test('downloads into <models>/<role>/<id>/<file>, verifies it and reports progress', async () => {
    const body = randomBytes(3 * 1024 * 1024);
    const events: ProgressEvent[] = [];
    const res = await pullModel(entryFor(serve('/model.bin', body), body), { modelsDir, onProgress: (e) => events.push(e) });

    expect(res.files[0]).toMatchObject({ path: dest(), status: 'downloaded', sha256: sha256(body), size: body.length, verifiedBy: 'manifest' });
    expect(sha256(await readFile(dest()))).toBe(sha256(body));
    expect(existsSync(part())).toBe(false);
    expect(events[0]).toMatchObject({ phase: 'start', resumedFrom: 0, total: body.length, file: 'stt/test-model/model.bin' });
    expect(events.filter((e) => e.phase === 'data').length).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({ phase: 'done', received: body.length, total: body.length });
    const received = events.map((e) => e.received);
    expect(received).toEqual([...received].sort((a, b) => a - b));
  });

  test('resumes an interrupted download from where it stopped', async () => {
    const body = randomBytes(4 * 1024 * 1024);
    const url = serve('/model.bin', body);
    const entry = entryFor(url, body);
    state.dropsLeft = 1;
    state.dropAfter = 1024 * 1024;

    const first = pullModel(entry, { modelsDir, retries: 0 });
    await expect(first).rejects.toThrow(PullError);
    await expect(first).rejects.toThrow(url);
    await expect(first).rejects.toThrow(/run the same command again to resume/);
    const partial = (await stat(part())).size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(body.length);
    expect(existsSync(dest())).toBe(false);

    const res = await pullModel(entry, { modelsDir, retries: 0 });
    expect(state.requests.at(-1)).toEqual({ path: '/model.bin', range: `bytes=${partial}-` });
    expect(res.files[0]!.status).toBe('downloaded');
    expect(sha256(await readFile(dest()))).toBe(sha256(body));
    expect(existsSync(part())).toBe(false);
  });

  test('resumes automatically within one call when the connection drops', async () => {
    const body = randomBytes(2 * 1024 * 1024);
    state.dropsLeft = 1;
    state.dropAfter = 512 * 1024;
    const notices: string[] = [];
    const events: ProgressEvent[] = [];
    await pullModel(entryFor(serve('/model.bin', body), body), {
      modelsDir,
      onNotice: (m) => notices.push(m),
      onProgress: (e) => events.push(e),
    });
    expect(state.requests).toHaveLength(2);
    expect(state.requests[1]!.range).toMatch(/^bytes=\d+-$/);
    const resumedAt = Number(/bytes=(\d+)-/.exec(state.requests[1]!.range!)![1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(events.filter((e) => e.phase === 'start').map((e) => e.resumedFrom)).toEqual([0, resumedAt]);
    expect(notices.join('\n')).toMatch(/resuming/);
    expect(sha256(await readFile(dest()))).toBe(sha256(body));
  });

  test('starts over when the server ignores the Range header (200 instead of 206)', async () => {
    const body = randomBytes(256 * 1024);
    state.mode = 'ignore-range';
    await mkdir(join(modelsDir, 'stt', 'test-model'), { recursive: true });
    await writeFile(part(), body.subarray(0, 1000));
    const notices: string[] = [];
    const res = await pullModel(entryFor(serve('/model.bin', body), body), { modelsDir, onNotice: (m) => notices.push(m) });
    expect(state.requests[0]!.range).toBe('bytes=1000-');
    expect(notices.join('\n')).toMatch(/ignored the resume request/);
    expect(res.files[0]!.size).toBe(body.length);
    expect(sha256(await readFile(dest()))).toBe(sha256(body));
  });

  test('accepts a complete partial file when the server answers 416 to the resume request', async () => {
    const body = randomBytes(64 * 1024);
    await mkdir(join(modelsDir, 'stt', 'test-model'), { recursive: true });
    await writeFile(part(), body);
    const res = await pullModel(entryFor(serve('/model.bin', body), body), { modelsDir });
    expect(state.requests).toEqual([{ path: '/model.bin', range: `bytes=${body.length}-` }]);
    expect(res.files[0]!.status).toBe('downloaded');
    expect(sha256(await readFile(dest()))).toBe(sha256(body));
  });

  test('rejects a file whose sha256 does not match and deletes it', async () => {
    const body = randomBytes(100 * 1024);
    const entry = entryFor(serve('/model.bin', body), body, { sha256: '0'.repeat(64) });
    const p = pullModel(entry, { modelsDir });
    await expect(p).rejects.toThrow(/verification failed for stt\/test-model\/model\.bin/);
    await expect(p).rejects.toThrow(/sha256 [0-9a-f]{64}, expected 0{64}/);
    expect(existsSync(dest())).toBe(false);
    expect(existsSync(part())).toBe(false);
  });

  test('checks the publisher SHA-1 as well when the manifest lists one', async () => {
    const body = randomBytes(10 * 1024);
    await expect(
      pullModel(entryFor(serve('/model.bin', body), body, { sha1: 'f'.repeat(40) }), { modelsDir }),
    ).rejects.toThrow(/sha1 .* expected f{40}/);
    expect(existsSync(dest())).toBe(false);

    const ok = await pullModel(entryFor(serve('/model.bin', body), body, { sha1: sha1(body) }), { modelsDir });
    expect(ok.files[0]!.status).toBe('downloaded');
  });

  test('does not download a file that is already present and verified', async () => {
    const body = randomBytes(100 * 1024);
    const entry = entryFor(serve('/model.bin', body), body);
    await pullModel(entry, { modelsDir });
    expect(state.requests).toHaveLength(1);

    const notices: string[] = [];
    const again = await pullModel(entry, { modelsDir, onNotice: (m) => notices.push(m) });
    expect(state.requests).toHaveLength(1);
    expect(again.files[0]!.status).toBe('present');
    expect(notices.join('\n')).toMatch(/already present and verified/);
  });

  test('replaces a present file that no longer verifies', async () => {
    const body = randomBytes(50 * 1024);
    await mkdir(join(modelsDir, 'stt', 'test-model'), { recursive: true });
    await writeFile(dest(), Buffer.from('corrupted'));
    const res = await pullModel(entryFor(serve('/model.bin', body), body), { modelsDir });
    expect(res.files[0]!.status).toBe('downloaded');
    expect(sha256(await readFile(dest()))).toBe(sha256(body));
  });

  test('pins the hash of the first download in models.lock.json and rejects a later different file', async () => {
    const first = randomBytes(80 * 1024);
    const url = serve('/unhashed.bin', first);
    const entry = entryFor(url, first, { sha256: '', sizeExact: false });
    const notices: string[] = [];

    const res = await pullModel(entry, { modelsDir, onNotice: (m) => notices.push(m) });
    expect(res.files[0]).toMatchObject({ status: 'pinned', verifiedBy: 'pinned-now', sha256: sha256(first) });
    expect(notices.join('\n')).toMatch(/no published hash; PINNED sha256/);
    const lock = await readLock(modelsDir);
    expect(lock.files['stt/test-model/model.bin']).toMatchObject({ sha256: sha256(first), size: first.length, url });
    expect(JSON.parse(await readFile(join(modelsDir, 'models.lock.json'), 'utf8')).version).toBe(1);

    // Present and matching the pin: skipped, verified by the lock.
    const again = await pullModel(entry, { modelsDir });
    expect(again.files[0]).toMatchObject({ status: 'present', verifiedBy: 'lock' });

    // Upstream now serves something else: the fresh download is rejected and removed.
    await rm(dest());
    state.files.set('/unhashed.bin', randomBytes(80 * 1024));
    const p = pullModel(entry, { modelsDir });
    await expect(p).rejects.toThrow(/hash pinned in models\.lock\.json/);
    await expect(p).rejects.toThrow(/remove "stt\/test-model\/model\.bin" from/);
    expect(existsSync(dest())).toBe(false);
    expect(existsSync(part())).toBe(false);
    expect((await readLock(modelsDir)).files['stt/test-model/model.bin']!.sha256).toBe(sha256(first));
  });

  test('fails clearly on an HTTP error, naming the URL', async () => {
    const body = randomBytes(10);
    const entry = entryFor(`${base}/missing.bin`, body);
    const p = pullModel(entry, { modelsDir });
    await expect(p).rejects.toThrow(`HTTP 404 Not Found for ${base}/missing.bin`);
    await expect(p).rejects.toMatchObject({ retryable: false, url: `${base}/missing.bin` });
  });

  test('fails clearly on a network error, naming the URL and suggesting a retry', async () => {
    const body = randomBytes(10);
    const url = 'http://127.0.0.1:9/model.bin';
    const fetchImpl = async () => {
      throw new TypeError('fetch failed');
    };
    const p = pullModel(entryFor(url, body), { modelsDir, fetchImpl, retries: 1 });
    await expect(p).rejects.toThrow(`network error fetching ${url}: fetch failed`);
    await expect(p).rejects.toThrow(/run the same command again to resume/);
  });
});
