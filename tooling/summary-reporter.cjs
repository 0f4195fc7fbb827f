// Prints one plain closing line, `N passed, N failed`, which CI reads (jest's own summary
// is not). Failed suites that never ran a test (syntax errors, crashed setup) count as failures.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    process.stdout.write(`\n${results.numPassedTests} passed, ${failed} failed\n`);
  }
}
module.exports = SummaryReporter;
