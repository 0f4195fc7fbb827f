import { histogramSeries, METRICS, RUNTIME_METRICS } from '@parley/contracts';
import { buildDashboard, dashboardQueries, DASHBOARDS, type PanelSpec } from './dashboards.js';
import { RATE_INTERVAL } from './promql.js';
import { ALERTS, RECORDING_RULES } from './rules.js';

/** Every PromQL expression of the dashboards and rules, for the checks against Prometheus. */
export interface NamedQuery {
  /** `dashboard / panel` or `rule name`. */
  source: string;
  expr: string;
  /** A dashboard panel about traffic: must return data once traffic has flowed. */
  traffic: boolean;
}

export function dashboardPanelQueries(): NamedQuery[] {
  return DASHBOARDS.flatMap((spec) => {
    const panels = new Map<string, PanelSpec>(spec.rows.flatMap((row) => row.panels.map((panel) => [panel.title, panel] as const)));
    // Read from the built JSON (what users import), matched back to the panel's spec.
    return dashboardQueries(buildDashboard(spec)).map(({ panel, expr }) => {
      const panelSpec = panels.get(panel);
      if (!panelSpec) throw new Error(`${spec.uid}: panel "${panel}" has no spec`);
      return { source: `${spec.title} / ${panel}`, expr, traffic: panelSpec.traffic };
    });
  });
}

export function ruleQueries(): NamedQuery[] {
  return [
    ...Object.values(RECORDING_RULES).map((rule) => ({ source: `record ${rule.record}`, expr: rule.expr, traffic: false })),
    ...ALERTS.map((rule) => ({ source: `alert ${rule.alert}${rule.labels.service ? ` (${rule.labels.service})` : ''}`, expr: rule.expr, traffic: false })),
  ];
}

/** Grafana's variables replaced as Grafana would for a short range (the checks scrape every second). */
export function withGrafanaVariables(expr: string, rateInterval = '1m'): string {
  return expr.split(RATE_INTERVAL).join(rateInterval);
}

/**
 * The metric names a PromQL expression reads: what is left once strings, label matchers,
 * range selectors, grouping clauses and function calls are taken out.
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/[a-zA-Z_][a-zA-Z0-9_]*\s*\(/g, '(');
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);
  const names = stripped.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return [...new Set(names.filter((name) => !keywords.has(name.toLowerCase())))];
}

/** Every series name the vocabulary defines (histograms as their _bucket, _count and _sum). */
export function vocabularySeriesNames(): Set<string> {
  const names = new Set<string>(Object.values(RUNTIME_METRICS));
  for (const definition of Object.values(METRICS)) {
    if (definition.type === 'histogram') Object.values(histogramSeries(definition)).forEach((name) => names.add(name));
    else names.add(definition.name);
  }
  return names;
}

export const RECORDED_SERIES = new Set(Object.values(RECORDING_RULES).map((rule) => rule.record));
