import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './system.js';

/** What the code says, for cross-checking the deployment files against it. */

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

/** Variables for the runtime: HOME (where libraries cache; the root filesystem is read-only) and NODE_ENV. */
export const RUNTIME_ENV = ['HOME', 'NODE_ENV'];

export type App = 'gateway' | 'llm-service' | 'stt-service' | 'tts-service';

/**
 * Environment variables a service's code can read: `env.X` / `process.env.X`, and upper-case
 * names passed as string literals (`envInt('LLM_THREADS', ...)`), in the app and the packages
 * it runs (service-kit, models).
 */
export function envVarsReadBy(app: App): Set<string> {
  const names = new Set<string>();
  const dirs = [`apps/${app}/src`, 'packages/service-kit/src', 'packages/models/src'];
  for (const file of dirs.flatMap((dir) => sourceFiles(join(ROOT, dir)))) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/\b(?:env|process\.env)\.([A-Z][A-Z0-9_]*)/g)) names.add(match[1]!);
    for (const match of text.matchAll(/'([A-Z][A-Z0-9]*_[A-Z0-9_]+)'/g)) names.add(match[1]!);
    for (const match of text.matchAll(/\b(?:read|envInt|envNumber)\(\s*'([A-Z][A-Z0-9_]*)'/g)) names.add(match[1]!);
  }
  // Read by Node.js and the libraries, not by Parley's code.
  for (const name of RUNTIME_ENV) names.add(name);
  return names;
}

/** The default HTTP port each service's config falls back to (what probes and scrapes use). */
export function defaultHttpPort(app: App): number {
  const config = readFileSync(join(ROOT, `apps/${app}/src/config.ts`), 'utf8');
  const match = /\(\s*'(?:PORT|[A-Z]+_HTTP_PORT)'\s*,\s*(\d+)/.exec(config);
  if (!match) throw new Error(`no default HTTP port found in apps/${app}/src/config.ts`);
  return Number(match[1]);
}

/** `node apps/x/dist/main.js` → the source entry point that builds it must exist. */
export function entryPointExists(command: readonly string[]): boolean {
  const script = command.find((part) => part.endsWith('.js'));
  if (!script) return false;
  const source = script.replace('/dist/', '/src/').replace(/\.js$/, '.ts');
  try {
    return statSync(join(ROOT, source)).isFile();
  } catch {
    return false;
  }
}

export const APP_OF_SERVICE: Record<string, App> = { gateway: 'gateway', llm: 'llm-service', stt: 'stt-service', tts: 'tts-service' };
