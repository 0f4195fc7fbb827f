#!/usr/bin/env node
// `models`: list, download (resumable, verified) and locate Parley's models; write tiny test
// fixtures. Run from the repo root as `npm run models -- <command>`.

import { existsSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  DEFAULT_MODEL_IDS,
  LANGUAGES,
  MANIFEST,
  ROLES,
  VOICE_BY_LANGUAGE,
  entrySize,
  findModel,
  isRole,
  type Language,
  type ModelEntry,
} from './manifest.js';
import { readLock, lockPath } from './lock.js';
import { defaultModelsDir, fixturePaths, fixturesDir, modelDir, resolveModel, UnknownModelError } from './paths.js';
import { createProgressReporter, formatBytes, type ProgressStream } from './progress.js';
import { pullModel, PullError, type FetchLike } from './pull.js';

export interface CliIO {
  stdout: ProgressStream;
  stderr: ProgressStream;
  env: NodeJS.ProcessEnv;
  fetchImpl?: FetchLike;
}

const USAGE = `Usage: models <command> [args]

Commands:
  list [--json]                 Every known model, its size, hash status and whether it is on disk,
                                plus the voice used for each tutoring language.
  pull [role|id|lang ...]       Download (resumable) and verify models. No argument: the default
                                model of each role (${[...DEFAULT_MODEL_IDS.llm, ...DEFAULT_MODEL_IDS.stt].join(', ')}
                                and the core voices ${DEFAULT_MODEL_IDS.tts.join(', ')}).
                                A role (llm, stt, tts) means its default model(s); a language code
                                (en, es, ...) means that language's voice.
  path <role> [id]              Print the resolved path of a role's model (default model unless id).
  fixtures [--out DIR]          Write tiny generated test models (no download) into DIR
                                (default $PARLEY_FIXTURES_DIR or <repo>/.fixtures).

Models are stored in $PARLEY_MODELS_DIR or <repo>/models, as <role>/<id>/<file>.
Files without a published hash are pinned on first download in models.lock.json there.`;

class UsageError extends Error {}

function isLanguage(v: string): v is Language {
  return (LANGUAGES as readonly string[]).includes(v);
}

/** Expand pull arguments into manifest entries (deduplicated, in order). */
export function selectEntries(args: string[], notice: (m: string) => void): ModelEntry[] {
  const ids: string[] = [];
  const wanted = args.length > 0 ? args : [...ROLES];
  for (const arg of wanted) {
    if (isRole(arg)) ids.push(...DEFAULT_MODEL_IDS[arg]);
    else if (isLanguage(arg)) {
      const choice = VOICE_BY_LANGUAGE[arg];
      if (choice.kind === 'voice') ids.push(choice.voice);
      else notice(`${arg}: no Piper voice (${choice.reason}); replies fall back to ${choice.strategy}. Nothing to download.`);
    } else if (findModel(arg)) ids.push(arg);
    else {
      throw new UsageError(
        `unknown role, model id or language "${arg}". Roles: ${ROLES.join(', ')}; ids: see \`models list\`; languages: ${LANGUAGES.join(' ')}`,
      );
    }
  }
  return [...new Set(ids)].map((id) => findModel(id)!);
}

function hashStatus(entry: ModelEntry, locked: Record<string, unknown>): string {
  const states = entry.files.map((f) =>
    f.sha256 ? 'published' : locked[`${entry.role}/${entry.id}/${f.name}`] ? 'pinned' : 'pin-on-first-download',
  );
  return [...new Set(states)].join('+');
}

async function cmdList(args: string[], io: CliIO): Promise<number> {
  const modelsDir = defaultModelsDir(io.env);
  const locked = (await readLock(modelsDir)).files;
  const defaults = new Set(Object.values(DEFAULT_MODEL_IDS).flat());
  const rows = MANIFEST.map((e) => {
    const r = resolveModel(e.role, e.id, modelsDir);
    return {
      role: e.role,
      id: e.id,
      default: defaults.has(e.id),
      size: entrySize(e),
      sizeExact: e.files.every((f) => f.sizeExact),
      hash: hashStatus(e, locked),
      present: r.present,
      path: r.path,
      languages: e.languages,
      license: e.license,
    };
  });
  if (args.includes('--json')) {
    io.stdout.write(`${JSON.stringify({ modelsDir, models: rows, voiceByLanguage: VOICE_BY_LANGUAGE }, null, 2)}\n`);
    return 0;
  }
  const w = (s: string, n: number) => s.padEnd(n);
  io.stdout.write(`Models dir: ${modelsDir}\n\n`);
  io.stdout.write(`${w('ROLE', 5)}${w('ID', 32)}${w('SIZE', 11)}${w('ON DISK', 9)}HASH\n`);
  for (const r of rows) {
    const size = `${r.sizeExact ? '' : '~'}${formatBytes(r.size)}`;
    io.stdout.write(`${w(r.role, 5)}${w(r.id + (r.default ? ' *' : ''), 32)}${w(size, 11)}${w(r.present ? 'yes' : 'no', 9)}${r.hash}\n`);
  }
  io.stdout.write('\n* = pulled by `models pull` with no argument\n\nVoice per language:\n');
  for (const lang of LANGUAGES) {
    const c = VOICE_BY_LANGUAGE[lang];
    io.stdout.write(`  ${lang}  ${c.kind === 'voice' ? c.voice : `(fallback: ${c.strategy}; ${c.reason})`}\n`);
  }
  return 0;
}

async function cmdPull(args: string[], io: CliIO): Promise<number> {
  const notice = (m: string) => void io.stderr.write(`${m}\n`);
  const entries = selectEntries(args.filter((a) => !a.startsWith('--')), notice);
  const modelsDir = defaultModelsDir(io.env);
  const progress = createProgressReporter(io.stderr);
  let failed = 0;
  for (const entry of entries) {
    try {
      const res = await pullModel(entry, { modelsDir, fetchImpl: io.fetchImpl, onProgress: progress, onNotice: notice });
      const pinned = res.files.filter((f) => f.status === 'pinned').length;
      io.stderr.write(`ok ${entry.role}/${entry.id}${pinned ? ` (${pinned} file(s) pinned on first download)` : ''}\n`);
    } catch (err) {
      failed++;
      if (err instanceof PullError) {
        io.stderr.write(`error: ${entry.role}/${entry.id}: ${err.message}\n`);
        if (err.retryable && !/run the same command again/.test(err.message)) {
          io.stderr.write('  Run the same command again to retry; downloads resume where they stopped.\n');
        }
      } else io.stderr.write(`error: ${entry.role}/${entry.id}: ${(err as Error).message}\n`);
    }
  }
  if (failed) io.stderr.write(`${failed} of ${entries.length} model(s) failed.\n`);
  if (existsSync(lockPath(modelsDir))) io.stderr.write(`Pinned hashes: ${lockPath(modelsDir)}\n`);
  return failed ? 1 : 0;
}

function cmdPath(args: string[], io: CliIO): number {
  const [role, id] = args;
  if (!role) throw new UsageError('`models path` needs a role: llm, stt or tts');
  if (!isRole(role)) throw new UsageError(`unknown role "${role}" (expected ${ROLES.join(', ')})`);
  const r = resolveModel(role, id, defaultModelsDir(io.env));
  io.stdout.write(`${r.path}\n`);
  if (!r.present) {
    io.stderr.write(`warning: ${r.entry.id} is not downloaded yet (${modelDir(r.entry, defaultModelsDir(io.env))}); run \`models pull ${r.entry.id}\`\n`);
    return 1;
  }
  return 0;
}

async function cmdFixtures(args: string[], io: CliIO): Promise<number> {
  const i = args.indexOf('--out');
  if (i >= 0 && !args[i + 1]) throw new UsageError('--out needs a directory');
  const dir = i >= 0 ? args[i + 1]! : fixturesDir(io.env);
  const paths = fixturePaths(dir);
  const [{ writeTinyGguf }, { writeTinyWhisperModel }, { writeTinyPiperVoice }] = await Promise.all([
    import('./fixtures/gguf.js'),
    import('./fixtures/whisper.js'),
    import('./fixtures/piper.js'),
  ]);
  await writeTinyGguf(paths.gguf);
  await writeTinyWhisperModel(paths.whisper);
  const voice = await writeTinyPiperVoice(paths.piperDir);
  io.stdout.write(
    `Wrote test fixtures (generated, not real models) to ${dir}:\n` +
      `  llm  ${paths.gguf}\n  stt  ${paths.whisper}\n  tts  ${voice.model} (tokens ${voice.tokens}, ${voice.sampleRate} Hz)\n`,
  );
  return 0;
}

/** Run the CLI; resolves to the process exit code (0 ok, 1 failure, 2 usage error). */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const [cmd, ...args] = argv;
  try {
    switch (cmd) {
      case 'list':
        return await cmdList(args, io);
      case 'pull':
        return await cmdPull(args, io);
      case 'path':
        return cmdPath(args, io);
      case 'fixtures':
        return await cmdFixtures(args, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(`${USAGE}\n`);
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof UnknownModelError) {
      io.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    io.stderr.write(`error: ${(err as Error).message}\n`);
    return 1;
  }
}

function invokedDirectly(): boolean {
  if (!process.argv[1]) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  // `models list | head` closes stdout early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
