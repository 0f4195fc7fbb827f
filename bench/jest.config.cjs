const preset = require('../tooling/jest.preset.cjs');
// The harness's smoke run (it starts a broker, every service and whisper-server: minutes, not seconds).
module.exports = { ...preset, displayName: 'bench', testMatch: ['<rootDir>/*.test.ts'] };
