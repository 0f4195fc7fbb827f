import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedArtifacts } from './artifacts.js';

/** Writes the dashboards, rules, rule tests and their Kubernetes forms (run by the build). */
const root = fileURLToPath(new URL('../../../', import.meta.url));
for (const [path, content] of generatedArtifacts()) {
  const target = join(root, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content);
}
console.log(`@parley/deploy: wrote ${generatedArtifacts().size} files under deploy/`);
