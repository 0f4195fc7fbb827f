// Prints one plain closing line, `N passed, N failed`, which CI reads (jest's own summary
// is not). Failed suites that never ran a test (syntax errors, crashed setup) count as failures.
// On a complete run (every project, no filter) it also checks the reliability record: the case
// ids and outcomes the fault and bad-input tests recorded must equal those in the committed
// docs/reliability.md; a difference counts as one more failure (tooling/reliability-check.cjs).
const { checkRecord, clearRecords, COMMAND, isCompleteRun } = require('./reliability-check.cjs');

class SummaryReporter {
  constructor(globalConfig) {
    this.complete = isCompleteRun(globalConfig);
  }

  onRunStart() {
    // Records of an earlier (possibly partial) run must not count toward this one.
    if (this.complete) clearRecords();
  }

  onRunComplete(_contexts, results) {
    let failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    if (this.complete) {
      const { ok, lines } = checkRecord();
      if (!ok) {
        failed += 1;
        process.stdout.write(
          `\nThe reliability record differs from docs/reliability.md (regenerate it with \`${COMMAND}\` and commit it if the change is intended):\n${lines.join('\n')}\n`,
        );
      }
    }
    process.stdout.write(`\n${results.numPassedTests} passed, ${failed} failed\n`);
  }
}
module.exports = SummaryReporter;
