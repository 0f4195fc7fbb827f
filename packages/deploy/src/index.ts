export * from './promql.js';
export * from './dashboards.js';
export * from './rules.js';
export * from './rule-tests.js';
export * from './artifacts.js';
export * from './queries.js';
