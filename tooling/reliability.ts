import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
export interface ReliabilityCase { id: string; kind: 'fault' | 'bad-input'; target: string; input: string; outcome: string; ms?: number }
export function recordReliabilityCase(c: ReliabilityCase): void {
  // Tests run as native ESM (jest --experimental-vm-modules): no __dirname, the module's URL instead.
  const dir = fileURLToPath(new URL('../.reliability/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${c.id}.json`), JSON.stringify(c));
}
