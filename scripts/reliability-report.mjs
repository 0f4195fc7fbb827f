// Writes docs/reliability.md from the records the fault and bad-input tests left in .reliability/
// (tooling/reliability.ts). `npm run reliability` after the tests; `--check` only compares the
// records with the committed page (what a complete `npm test` does at its end) and exits 1 on a difference.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { checkRecord, DOC_PATH, RECORDS_DIR, readRecords, renderMarkdown } = require('../tooling/reliability-check.cjs');

if (process.argv.includes('--check')) {
  const { ok, lines } = checkRecord();
  console.log(ok ? 'docs/reliability.md matches the recorded cases' : `docs/reliability.md differs from the recorded cases:\n${lines.join('\n')}`);
  process.exit(ok ? 0 : 1);
}

const records = readRecords();
if (records.length === 0) {
  console.error(`No records in ${RECORDS_DIR}: run the fault and bad-input tests first (npm test, or the suites you changed).`);
  process.exit(1);
}
writeFileSync(DOC_PATH, renderMarkdown(records));
console.log(`wrote ${DOC_PATH}: ${records.length} cases`);
