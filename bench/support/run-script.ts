import { spawn, type ChildProcess } from 'node:child_process';

export interface ScriptRun {
  /** Resolves when the script has exited. */
  result: Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Stops it if it still runs (its own handler stops the services it started). */
  stop(): void;
}

/** Runs a node script of the harness (`npm run bench`, `load`, `soak`) and collects its output. */
export function runScript(script: string, args: string[]): ScriptRun {
  const child: ChildProcess = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    result: new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr }))),
    stop: () => {
      if (child.exitCode === null) child.kill();
    },
  };
}
