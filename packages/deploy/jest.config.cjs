const preset = require('../../tooling/jest.preset.cjs');
module.exports = { ...preset, displayName: '@parley/deploy' };
