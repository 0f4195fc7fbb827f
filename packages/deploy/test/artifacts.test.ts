import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedArtifacts, RULE_TESTS_FILE, RULES_FILE } from '../src/artifacts.js';
import { dashboardPanelQueries, metricNamesIn, RECORDED_SERIES, ruleQueries, vocabularySeriesNames } from '../src/queries.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function promtool(args: string[]) {
  const result = spawnSync('promtool', args, { cwd: ROOT, encoding: 'utf8' });
  if (result.error) throw new Error(`promtool could not run (apt-get install prometheus): ${result.error.message}`);
  return result;
}

describe('generated dashboards and rules', () => {
  it('are committed exactly as the sources generate them (run `npm run build -w @parley/deploy` after a change)', () => {
    for (const [path, content] of generatedArtifacts()) {
      const file = join(ROOT, path);
      expect({ path, exists: existsSync(file) }).toEqual({ path, exists: true });
      expect({ path, upToDate: readFileSync(file, 'utf8') === content }).toEqual({ path, upToDate: true });
    }
  });

  it('read only metrics of the vocabulary (or the rules\' own recorded series)', () => {
    const known = vocabularySeriesNames();
    const queries = [...dashboardPanelQueries(), ...ruleQueries()];
    expect(queries.length).toBeGreaterThan(40);
    const unknown = queries.flatMap(({ source, expr }) =>
      metricNamesIn(expr)
        .filter((name) => !known.has(name) && !RECORDED_SERIES.has(name))
        .map((name) => `${source}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it('finds the metric names in PromQL, and only those', () => {
    expect(metricNamesIn('histogram_quantile(0.95, sum by (service, le) (rate(parley_x_bucket{outcome=~"a|b"}[5m])))')).toEqual(['parley_x_bucket']);
    expect(metricNamesIn('max by (service) (up{service=~"llm"}) == 1 unless on (service) max(parley_model_loaded) == 1')).toEqual(['up', 'parley_model_loaded']);
    expect(metricNamesIn('parley:ratio > 0.05')).toEqual(['parley:ratio']);
  });

  it('give every panel a query, a unit and a description', () => {
    const queries = dashboardPanelQueries();
    expect(new Set(queries.map((q) => q.source)).size).toBeGreaterThan(25);
    for (const [path, content] of generatedArtifacts()) {
      if (!path.endsWith('.json')) continue;
      const dashboard = JSON.parse(content) as { uid: string; panels: Array<{ type: string; title: string; description?: string; targets?: unknown[]; fieldConfig?: { defaults?: { unit?: string } } }> };
      for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
        expect({ panel: panel.title, hasQueries: (panel.targets?.length ?? 0) > 0 }).toEqual({ panel: panel.title, hasQueries: true });
        expect(panel.description).toMatch(/\S/);
        expect(panel.fieldConfig?.defaults?.unit).toMatch(/\S/);
      }
    }
  });
});

describe('Prometheus rules', () => {
  it('pass promtool check rules', () => {
    const result = promtool(['check', 'rules', RULES_FILE]);
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('pass their promtool unit tests: every alert fires when it should and stays quiet otherwise', () => {
    const result = promtool(['test', 'rules', RULE_TESTS_FILE]);
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
    const tests = readFileSync(join(ROOT, RULE_TESTS_FILE), 'utf8');
    const alerts = new Set(ruleQueries().filter((q) => q.source.startsWith('alert ')).map((q) => q.source.split(' ')[1]));
    for (const alert of alerts) {
      expect({ alert, fires: new RegExp(`name: ${alert} fires`).test(tests) }).toEqual({ alert, fires: true });
      expect({ alert, quiet: new RegExp(`name: ${alert} stays quiet`).test(tests) }).toEqual({ alert, quiet: true });
    }
  });
});
