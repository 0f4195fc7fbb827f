const preset = require('./jest.preset.cjs');
// The repository's own tooling (the reliability record and its CI check): unit tests only.
module.exports = { ...preset, displayName: 'tooling', testMatch: ['<rootDir>/*.test.ts'] };
