// The root run used by `npm test` and CI: every workspace is a jest project, and one
// reporter closes the run with the plain `N passed, N failed` line CI reads.
module.exports = {
  projects: ['<rootDir>/packages/*/jest.config.cjs', '<rootDir>/apps/*/jest.config.cjs', '<rootDir>/bench/jest.config.cjs', '<rootDir>/tooling/jest.config.cjs'],
  reporters: ['default', '<rootDir>/tooling/summary-reporter.cjs'],
  // Two cores: integration suites start brokers and native engines; run them one after another.
  maxWorkers: 1,
  // A global option (ignored inside projects): suites start brokers, services and native engines.
  testTimeout: 120000,
};
