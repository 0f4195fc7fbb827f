import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DASHBOARDS } from '../src/dashboards.js';
import { RULES_FILE } from '../src/artifacts.js';
import { APP_OF_SERVICE, defaultHttpPort, entryPointExists, envVarsReadBy } from './code-facts.js';
import { ROOT } from './system.js';

type ComposeService = {
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  profiles?: string[];
  healthcheck?: { test: string[] };
};
type Compose = { services: Record<string, ComposeService>; volumes: Record<string, unknown> };

const SERVICES = ['gateway', 'llm', 'stt', 'tts'] as const;
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as Compose;
const PROMETHEUS_CONFIG = 'deploy/prometheus/prometheus.compose.yml';
const prometheusConfig = parse(readFileSync(join(ROOT, PROMETHEUS_CONFIG), 'utf8')) as {
  rule_files: string[];
  scrape_configs: Array<{ job_name: string; honor_labels?: boolean; dns_sd_configs: Array<{ names: string[]; port: number }>; relabel_configs: Array<{ target_label: string; replacement: string }> }>;
};

/** `./host/path:/container/path[:ro]` → its parts (named volumes have no leading `.` or `/`). */
function mount(spec: string) {
  const [source, target, mode] = spec.split(':');
  return { source: source!, target: target!, readOnly: mode === 'ro', bind: source!.startsWith('.') || source!.startsWith('/') };
}

/** The port a service's process listens on, from the environment compose gives it. */
function httpPort(service: (typeof SERVICES)[number]): number {
  const env = compose.services[service]!.environment ?? {};
  return Number(service === 'gateway' ? env.PORT : env[`${service.toUpperCase()}_HTTP_PORT`]);
}

describe('docker-compose.yml, checked against the code', () => {
  it('runs every service from a built entry point, with only environment variables its code reads', () => {
    for (const service of SERVICES) {
      const spec = compose.services[service]!;
      expect({ service, entryPoint: entryPointExists(spec.command ?? []) }).toEqual({ service, entryPoint: true });
      const read = envVarsReadBy(APP_OF_SERVICE[service]!);
      expect({ service, unread: Object.keys(spec.environment ?? {}).filter((name) => !read.has(name)) }).toEqual({ service, unread: [] });
    }
    expect(entryPointExists(compose.services.models!.entrypoint ?? [])).toBe(true);
  });

  it("listens on each service's documented port, publishes the gateway's, and health-checks /readyz there", () => {
    for (const service of SERVICES) {
      expect({ service, port: httpPort(service) }).toEqual({ service, port: defaultHttpPort(APP_OF_SERVICE[service]!) });
      expect(compose.services[service]!.healthcheck?.test.join(' ')).toContain(`127.0.0.1:${httpPort(service)}/readyz`);
    }
    expect(compose.services.gateway!.ports).toEqual([`${httpPort('gateway')}:${httpPort('gateway')}`]);
    const exposed = /^EXPOSE (.+)$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))![1]!.split(/\s+/).map(Number);
    for (const service of SERVICES) expect(exposed).toContain(httpPort(service));
  });

  it('reaches NATS with JetStream and mounts the models read-only where the services look for them', () => {
    expect(compose.services.nats!.command).toEqual(expect.arrayContaining(['-js']));
    for (const service of SERVICES) {
      const env = compose.services[service]!.environment!;
      expect(env.NATS_URL).toBe('nats://nats:4222');
      if (service === 'gateway') continue;
      const models = (compose.services[service]!.volumes ?? []).map(mount).find((m) => m.source === 'models');
      expect({ service, models }).toEqual({ service, models: { source: 'models', target: env.PARLEY_MODELS_DIR, readOnly: true, bind: false } });
    }
    const models = (compose.services.models!.volumes ?? []).map(mount);
    expect(models).toEqual([{ source: 'models', target: compose.services.models!.environment!.PARLEY_MODELS_DIR, readOnly: false, bind: false }]);
  });

  it('declares every named volume and finds every bind-mounted file in the repository', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of (service.volumes ?? []).map(mount)) {
        if (volume.bind) expect({ service: name, source: volume.source, exists: existsSync(join(ROOT, volume.source)) }).toEqual({ service: name, source: volume.source, exists: true });
        else expect(Object.keys(compose.volumes)).toContain(volume.source);
      }
    }
  });

  describe('the monitoring profile', () => {
    it('runs Prometheus and Grafana only in the monitoring profile', () => {
      expect(compose.services.prometheus!.profiles).toEqual(['monitoring']);
      expect(compose.services.grafana!.profiles).toEqual(['monitoring']);
    });

    it('scrapes every replica of every service on its port, with the rules loaded', () => {
      const mounts = compose.services.prometheus!.volumes!.map(mount);
      expect(mounts).toContainEqual({ source: `./${PROMETHEUS_CONFIG}`, target: '/etc/prometheus/prometheus.yml', readOnly: true, bind: true });
      expect(mounts).toContainEqual({ source: `./${RULES_FILE}`, target: prometheusConfig.rule_files[0], readOnly: true, bind: true });
      const jobs = Object.fromEntries(prometheusConfig.scrape_configs.map((job) => [job.job_name, job]));
      for (const service of SERVICES) {
        const job = jobs[service]!;
        expect({ service, targets: job.dns_sd_configs, honorLabels: job.honor_labels, label: job.relabel_configs })
          .toEqual({ service, targets: [expect.objectContaining({ names: [service], port: httpPort(service) })], honorLabels: true, label: [{ target_label: 'service', replacement: service }] });
      }
    });

    it('passes promtool check config with the rules in place', () => {
      const dir = mkdtempSync(join(tmpdir(), 'parley-compose-prometheus-'));
      try {
        const config = readFileSync(join(ROOT, PROMETHEUS_CONFIG), 'utf8').replace(prometheusConfig.rule_files[0]!, join(ROOT, RULES_FILE));
        writeFileSync(join(dir, 'prometheus.yml'), config);
        const result = spawnSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8' });
        if (result.error) throw new Error(`promtool could not run (apt-get install prometheus): ${result.error.message}`);
        expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('provisions Grafana with the Prometheus data source and every dashboard', () => {
      const mounts = compose.services.grafana!.volumes!.map(mount);
      const provisioning = mounts.find((m) => m.target === '/etc/grafana/provisioning')!;
      const dashboardsMount = mounts.find((m) => m.target.startsWith('/var/lib/grafana/dashboards'))!;
      const datasources = parse(readFileSync(join(ROOT, provisioning.source, 'datasources/prometheus.yml'), 'utf8')) as { datasources: Array<{ type: string; url: string; isDefault: boolean }> };
      expect(datasources.datasources).toEqual([expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true })]);
      const providers = parse(readFileSync(join(ROOT, provisioning.source, 'dashboards/parley.yml'), 'utf8')) as { providers: Array<{ options: { path: string } }> };
      expect(providers.providers[0]!.options.path).toBe(dashboardsMount.target);
      const files = readdirSync(join(ROOT, dashboardsMount.source)).filter((f) => f.endsWith('.json'));
      expect(files.sort()).toEqual(DASHBOARDS.map((d) => `${d.uid}.json`).sort());
      const home = compose.services.grafana!.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!;
      expect(files).toContain(home.replace(`${dashboardsMount.target}/`, ''));
    });
  });
});
