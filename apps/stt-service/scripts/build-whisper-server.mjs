#!/usr/bin/env node
// Builds whisper-server and whisper-cli from the whisper.cpp source bundled in nodejs-whisper.
//
//   node apps/stt-service/scripts/build-whisper-server.mjs          # build (or reuse) and print the path
//   node apps/stt-service/scripts/build-whisper-server.mjs --json   # print {"server":..,"cli":..,..} on stdout
//
// - Portable static build (no -march=native, no shared libs) so binaries survive moving between CPUs.
// - Output goes to a cache dir outside the package source: <repo>/.cache/whisper.cpp/<version>/
//   (override with WHISPER_BUILD_DIR). The bundled source is copied there first, so node_modules
//   stays untouched.
// - Idempotent: a stamp file records the source version and cmake flags; if it matches and both
//   binaries exist, nothing is rebuilt.
// - cmake is spawned with argument arrays, never shell strings.
// - Concurrent runs are serialised with a lock directory.
//
// Also importable: `import { buildWhisperServer, whisperBinaryPaths } from './build-whisper-server.mjs'`.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '..', '..', '..');

export const CMAKE_CONFIGURE_FLAGS = [
  '-DCMAKE_BUILD_TYPE=Release',
  '-DBUILD_SHARED_LIBS=OFF',
  '-DGGML_NATIVE=OFF',
  '-DWHISPER_BUILD_TESTS=OFF',
  '-DWHISPER_BUILD_EXAMPLES=ON',
  '-DWHISPER_BUILD_SERVER=ON',
  '-DWHISPER_SDL2=OFF',
  '-DWHISPER_CURL=OFF',
];
const TARGETS = ['whisper-server', 'whisper-cli'];
const STAMP = 'parley-build.json';

function log(msg) {
  process.stderr.write(`[build-whisper] ${msg}\n`);
}

/** Locates the whisper.cpp source bundled in nodejs-whisper. */
export function findWhisperSource() {
  const candidates = [
    process.env.WHISPER_CPP_SOURCE,
    join(REPO_ROOT, 'node_modules', 'nodejs-whisper', 'cpp', 'whisper.cpp'),
    join(REPO_ROOT, 'packages', 'models', 'node_modules', 'nodejs-whisper', 'cpp', 'whisper.cpp'),
  ].filter(Boolean);
  for (const dir of candidates) {
    if (existsSync(join(dir, 'CMakeLists.txt'))) return dir;
  }
  throw new Error(`whisper.cpp source not found (looked in: ${candidates.join(', ')}); set WHISPER_CPP_SOURCE`);
}

/** Reads `project("whisper.cpp" VERSION x.y.z)` from the source's CMakeLists.txt. */
export function whisperSourceVersion(sourceDir) {
  const text = readFileSync(join(sourceDir, 'CMakeLists.txt'), 'utf8');
  const m = /project\(\s*"whisper\.cpp"\s+VERSION\s+([0-9.]+)/.exec(text);
  if (!m) throw new Error(`cannot read whisper.cpp version from ${sourceDir}/CMakeLists.txt`);
  return m[1];
}

/** Paths of the build dir and binaries (they may not exist yet). */
export function whisperBinaryPaths(opts = {}) {
  const sourceDir = opts.sourceDir ?? findWhisperSource();
  const version = whisperSourceVersion(sourceDir);
  const buildRoot = resolve(opts.buildDir ?? process.env.WHISPER_BUILD_DIR ?? join(REPO_ROOT, '.cache', 'whisper.cpp', version));
  const binDir = join(buildRoot, 'build', 'bin');
  const exe = process.platform === 'win32' ? '.exe' : '';
  return {
    version,
    sourceDir,
    buildRoot,
    srcCopy: join(buildRoot, 'src'),
    binDir,
    server: join(binDir, `whisper-server${exe}`),
    cli: join(binDir, `whisper-cli${exe}`),
    stamp: join(buildRoot, STAMP),
  };
}

function stampFor(paths) {
  const pkg = join(paths.sourceDir, '..', '..', 'package.json');
  let pkgVersion = null;
  try {
    pkgVersion = JSON.parse(readFileSync(pkg, 'utf8')).version ?? null;
  } catch {
    /* not inside nodejs-whisper */
  }
  const flags = [...CMAKE_CONFIGURE_FLAGS];
  const key = createHash('sha256').update(JSON.stringify({ v: paths.version, pkgVersion, flags, TARGETS })).digest('hex');
  return { whisperVersion: paths.version, nodejsWhisperVersion: pkgVersion, flags, targets: TARGETS, key };
}

function isUpToDate(paths) {
  if (!existsSync(paths.stamp) || !existsSync(paths.server) || !existsSync(paths.cli)) return false;
  try {
    const stamp = JSON.parse(readFileSync(paths.stamp, 'utf8'));
    return stamp.key === stampFor(paths).key;
  } catch {
    return false;
  }
}

function run(cmd, args, cwd) {
  log(`$ ${cmd} ${args.join(' ')}`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail = [];
    const onData = (chunk) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 40) tail.shift();
        // progress lines from make/ninja: "[ 42%] Building ..."; keep the console short
        if (/^\[\s*\d+%\]|^\[\d+\/\d+\]|error|warning: unused/i.test(line)) process.stderr.write(`  ${line}\n`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) =>
      reject(err.code === 'ENOENT' ? new Error(`${cmd} not found: install cmake and a C++ compiler (apt-get install cmake build-essential)`) : err),
    );
    child.on('close', (code, signal) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${tail.join('\n')}`));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function withLock(dir, fn) {
  const lock = join(dir, '.lock');
  mkdirSync(dir, { recursive: true });
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      // stale lock: owner process gone
      let owner = NaN;
      try {
        owner = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        /* lock being created right now */
      }
      let alive = true;
      if (Number.isInteger(owner) && owner > 0) {
        try {
          process.kill(owner, 0);
        } catch {
          alive = false;
        }
      } else {
        try {
          alive = Date.now() - statSync(lock).mtimeMs < 30_000;
        } catch {
          continue;
        }
      }
      if (!alive) {
        log(`removing stale lock ${lock}`);
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for build lock ${lock}`);
      log(`waiting for another build (pid ${owner}) ...`);
      await sleep(2000);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Builds (or reuses) whisper-server and whisper-cli. Resolves to the binary paths.
 * @param {{ buildDir?: string, sourceDir?: string, force?: boolean, jobs?: number }} [opts]
 */
export async function buildWhisperServer(opts = {}) {
  const paths = whisperBinaryPaths(opts);
  if (!opts.force && isUpToDate(paths)) {
    log(`up to date: whisper.cpp ${paths.version} in ${paths.buildRoot}`);
    return { ...paths, built: false, seconds: 0 };
  }
  return withLock(paths.buildRoot, async () => {
    if (!opts.force && isUpToDate(paths)) {
      log(`built by another process: ${paths.server}`);
      return { ...paths, built: false, seconds: 0 };
    }
    const t0 = Date.now();
    log(`building whisper.cpp ${paths.version} from ${paths.sourceDir}`);
    log(`build dir ${paths.buildRoot}`);
    rmSync(paths.stamp, { force: true });
    // Fresh copy of the source: the package folder stays untouched, and a stale copy never mixes in.
    rmSync(paths.srcCopy, { recursive: true, force: true });
    cpSync(paths.sourceDir, paths.srcCopy, {
      recursive: true,
      filter: (src) => !/[/\\](\.git|build|models[/\\].*\.bin)$/.test(src),
    });
    const buildDir = join(paths.buildRoot, 'build');
    const jobs = String(opts.jobs ?? Math.max(1, Math.min(availableParallelism(), Number(process.env.WHISPER_BUILD_JOBS) || 2)));
    await run('cmake', ['-S', paths.srcCopy, '-B', buildDir, ...CMAKE_CONFIGURE_FLAGS], paths.buildRoot);
    await run('cmake', ['--build', buildDir, '--config', 'Release', '-j', jobs, '--target', ...TARGETS], paths.buildRoot);
    for (const bin of [paths.server, paths.cli]) {
      if (!existsSync(bin)) throw new Error(`build finished but ${bin} is missing`);
    }
    const seconds = Math.round((Date.now() - t0) / 100) / 10;
    writeFileSync(paths.stamp, JSON.stringify({ ...stampFor(paths), builtAt: new Date().toISOString(), seconds }, null, 2) + '\n');
    log(`built in ${seconds}s: ${paths.server}`);
    return { ...paths, built: true, seconds };
  });
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  const args = process.argv.slice(2);
  try {
    const res = await buildWhisperServer({ force: args.includes('--force') });
    if (args.includes('--json')) {
      process.stdout.write(
        JSON.stringify({ version: res.version, server: res.server, cli: res.cli, buildDir: res.buildRoot, built: res.built, seconds: res.seconds }) + '\n',
      );
    } else {
      process.stdout.write(`${res.server}\n`);
      log(`whisper-cli: ${res.cli}`);
    }
  } catch (err) {
    log(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
