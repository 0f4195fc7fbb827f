import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DASHBOARDS } from '../src/dashboards.js';
import { APP_OF_SERVICE, defaultHttpPort, entryPointExists, envVarsReadBy } from './code-facts.js';
import { ROOT } from './system.js';

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [key: string]: any };
type Container = Record<string, any>;

const SERVICES = ['gateway', 'llm', 'stt', 'tts'] as const;
const MODEL_SERVICES = ['llm', 'stt', 'tts'] as const;
const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'Job'];
/** Enough for a large model from a slow disk before a startup probe gives up. */
const MIN_STARTUP_SECONDS = 300;

function kubectl(): string {
  const candidates = [process.env.KUBECTL, '/usr/bin/kubectl', '/usr/local/bin/kubectl'].filter(Boolean) as string[];
  const found = candidates.find((path) => existsSync(path)) ?? (spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0 ? 'kubectl' : undefined);
  if (!found) throw new Error('kubectl is missing: these checks render the overlays with `kubectl kustomize` (install kubectl >= 1.27, or set KUBECTL)');
  return found;
}

function render(overlay: string): K8sObject[] {
  const result = spawnSync(kubectl(), ['kustomize', join(ROOT, 'deploy/k8s/overlays', overlay)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`kubectl kustomize ${overlay} failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout).map((doc) => doc.toJSON() as K8sObject).filter(Boolean);
}

/** The kubernetes-models class for an object's apiVersion and kind (Prometheus operator CRDs included). */
async function modelClass(object: K8sObject): Promise<new (data: unknown) => { validate(): void }> {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : [undefined, object.apiVersion];
  const module = group === 'monitoring.coreos.com'
    ? await import(`@kubernetes-models/prometheus-operator/${group}/${version}`)
    : await import(group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`);
  const model = module[object.kind];
  if (!model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  return model;
}

const podSpec = (object: K8sObject) => object.spec.template.spec as Record<string, any>;
const containersOf = (object: K8sObject): Container[] => [...(podSpec(object).initContainers ?? []), ...podSpec(object).containers];
const named = (objects: K8sObject[], kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} is not rendered`);
  return found;
};
const configMapData = (objects: K8sObject[], prefix: string) => objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith(prefix))!.data as Record<string, string>;
const probeSeconds = (probe: { periodSeconds?: number; failureThreshold?: number; initialDelaySeconds?: number }) =>
  (probe.initialDelaySeconds ?? 0) + (probe.periodSeconds ?? 10) * (probe.failureThreshold ?? 3);

describe.each(['dev', 'production'])('the %s overlay', (overlay) => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = render(overlay);
  });
  const workloads = () => objects.filter((o) => WORKLOAD_KINDS.includes(o.kind));

  it('renders, and every object validates against the Kubernetes API schemas', async () => {
    expect(objects.length).toBeGreaterThan(20);
    const invalid: string[] = [];
    for (const object of objects) {
      const Model = await modelClass(object);
      try {
        new Model(object).validate();
      } catch (error) {
        invalid.push(`${object.kind}/${object.metadata.name}: ${String(error)}`);
      }
    }
    expect(invalid).toEqual([]);
  });

  it('runs every container non-root, with a read-only root filesystem, no privilege escalation and no capabilities', () => {
    for (const workload of workloads()) {
      const pod = podSpec(workload);
      expect({ workload: workload.metadata.name, runAsNonRoot: pod.securityContext?.runAsNonRoot }).toEqual({ workload: workload.metadata.name, runAsNonRoot: true });
      for (const container of containersOf(workload)) {
        const where = `${workload.metadata.name}/${container.name}`;
        const context = container.securityContext ?? {};
        expect({ where, allowPrivilegeEscalation: context.allowPrivilegeEscalation, readOnlyRootFilesystem: context.readOnlyRootFilesystem, privileged: context.privileged ?? false, drop: context.capabilities?.drop })
          .toEqual({ where, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false, drop: ['ALL'] });
        expect({ where, requests: Object.keys(container.resources?.requests ?? {}).sort(), limits: Object.keys(container.resources?.limits ?? {}).sort() })
          .toEqual({ where, requests: ['cpu', 'memory'], limits: ['cpu', 'memory'] });
      }
    }
  });

  it('spreads every long-running workload over nodes and zones', () => {
    for (const workload of workloads().filter((w) => w.kind !== 'Job')) {
      const keys = (podSpec(workload).topologySpreadConstraints ?? []).map((c: { topologyKey: string }) => c.topologyKey);
      expect({ workload: workload.metadata.name, keys }).toEqual({ workload: workload.metadata.name, keys: ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'] });
    }
  });

  it('binds readiness to "model loaded and broker answering", liveness to "the process answers", and allows a model load at start-up', () => {
    for (const service of SERVICES) {
      const [container] = podSpec(named(objects, 'Deployment', service)).containers as Container[];
      expect({ service, liveness: container!.livenessProbe.httpGet.path, readiness: container!.readinessProbe.httpGet.path, startup: container!.startupProbe.httpGet.path })
        .toEqual({ service, liveness: '/healthz', readiness: '/readyz', startup: '/readyz' });
      const port = container!.ports.find((p: { name: string }) => p.name === container!.livenessProbe.httpGet.port).containerPort;
      expect({ service, port }).toEqual({ service, port: defaultHttpPort(APP_OF_SERVICE[service]!) });
      if (service !== 'gateway') expect(probeSeconds(container!.startupProbe)).toBeGreaterThanOrEqual(MIN_STARTUP_SECONDS);
    }
  });

  it('gives each engine as many threads as its CPU limit allows (requests = limits)', () => {
    const cores = (cpu: string) => (cpu.endsWith('m') ? Number(cpu.slice(0, -1)) / 1000 : Number(cpu));
    const concurrency: Record<string, string> = { llm: 'LLM_SEQUENCES', stt: 'STT_SERVERS', tts: 'TTS_MAX_CONCURRENT' };
    for (const service of MODEL_SERVICES) {
      const container = (podSpec(named(objects, 'Deployment', service)).containers as Container[])[0]!;
      const env = Object.fromEntries(container.env.map((e: { name: string }) => [e.name, e]));
      const threads = env[`${service.toUpperCase()}_THREADS`]?.valueFrom?.resourceFieldRef;
      expect({ service, resource: threads?.resource, container: threads?.containerName }).toEqual({ service, resource: 'limits.cpu', container: service });
      const limit = cores(container.resources.limits.cpu);
      expect(cores(container.resources.requests.cpu)).toBe(limit);
      const threadCount = Math.ceil(limit / cores(threads.divisor ?? '1'));
      // Parallel work inside llama.cpp shares the threads; whisper-server children and tts generations each use their own.
      const parallel = service === 'llm' ? 1 : Number(env[concurrency[service]!]?.value);
      expect({ service, cpusUsed: threadCount * parallel }).toEqual({ service, cpusUsed: limit });
    }
  });

  it('lets only the gateway be reached from outside, the services reach NATS, and Prometheus scrape every port', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const denyAll = policies.find((p) => Object.keys(p.spec.podSelector).length === 0 && p.spec.ingress === undefined && p.spec.egress === undefined);
    expect(denyAll?.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const openToAll = policies.filter((p) => (p.spec.ingress ?? []).some((rule: { from?: unknown[] }) => !rule.from));
    expect(openToAll.map((p) => p.spec.podSelector.matchLabels)).toEqual([{ 'app.kubernetes.io/name': 'gateway' }]);
    for (const service of SERVICES) {
      expect({ service, natsClient: podSpec(named(objects, 'Deployment', service)) && named(objects, 'Deployment', service).spec.template.metadata.labels['parley.io/nats-client'] })
        .toEqual({ service, natsClient: 'true' });
    }
    const scrapePorts = policies.find((p) => p.metadata.name === 'prometheus-scrapes')!.spec.ingress[0].ports.map((p: { port: number }) => p.port);
    for (const service of SERVICES) expect(scrapePorts).toContain(defaultHttpPort(APP_OF_SERVICE[service]!));
  });

  it('runs built entry points and sets only environment variables the code reads', () => {
    const sharedEnv = Object.keys(configMapData(objects, 'parley-env'));
    for (const service of SERVICES) {
      const app = APP_OF_SERVICE[service]!;
      const container = (podSpec(named(objects, 'Deployment', service)).containers as Container[])[0]!;
      expect({ service, entryPoint: entryPointExists(container.command) }).toEqual({ service, entryPoint: true });
      const read = envVarsReadBy(app);
      const unread = [...sharedEnv, ...container.env.map((e: { name: string }) => e.name)].filter((name) => !read.has(name));
      expect({ service, unread }).toEqual({ service, unread: [] });
    }
  });

  if (overlay === 'dev') {
    it('runs one replica of everything, a single NATS server, and needs no ReadWriteMany storage', () => {
      for (const workload of objects.filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind))) {
        expect({ workload: workload.metadata.name, replicas: workload.spec.replicas }).toEqual({ workload: workload.metadata.name, replicas: 1 });
      }
      expect(configMapData(objects, 'nats-config')['nats.conf']).not.toMatch(/cluster\s*\{/);
      expect(configMapData(objects, 'parley-env')).toMatchObject({ NATS_KV_REPLICAS: '1', NATS_OBJECT_STORE_REPLICAS: '1' });
      const claims = [...objects.filter((o) => o.kind === 'PersistentVolumeClaim'), ...objects.flatMap((o) => o.spec?.volumeClaimTemplates ?? [])];
      expect(claims.flatMap((c) => c.spec.accessModes)).not.toContain('ReadWriteMany');
      for (const service of MODEL_SERVICES) {
        const pod = podSpec(named(objects, 'Deployment', service));
        expect(pod.volumes.find((v: { name: string }) => v.name === 'models')).toEqual({ name: 'models', emptyDir: {} });
        expect(pod.initContainers.map((c: Container) => c.command.slice(-2))).toEqual([['pull', service]]);
      }
    });
  }

  if (overlay === 'production') {
    it('autoscales every service and budgets its disruptions', () => {
      for (const service of SERVICES) {
        expect(named(objects, 'HorizontalPodAutoscaler', service).spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: service });
        expect(named(objects, 'HorizontalPodAutoscaler', service).spec.minReplicas).toBeGreaterThanOrEqual(2);
        expect(named(objects, 'PodDisruptionBudget', service).spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': service });
      }
    });

    it('runs NATS as a 3-node JetStream cluster and keeps 3 copies of the buckets', () => {
      const nats = named(objects, 'StatefulSet', 'nats');
      expect(nats.spec.replicas).toBe(3);
      expect(podSpec(nats).containers[0].image).toMatch(/^nats:/);
      const config = configMapData(objects, 'nats-config')['nats.conf']!;
      expect(config).toMatch(/jetstream\s*\{/);
      expect(config.match(/nats:\/\/nats-\d\.nats-headless:6222/g)).toHaveLength(3);
      expect(configMapData(objects, 'parley-env')).toMatchObject({ NATS_KV_REPLICAS: '3', NATS_OBJECT_STORE_REPLICAS: '3' });
    });

    it('monitors with a ServiceMonitor on every service, the rules and every dashboard', () => {
      const monitor = named(objects, 'ServiceMonitor', 'parley');
      const scraped = objects.filter((o) => o.kind === 'Service' && o.metadata.labels?.['parley.io/metrics'] === monitor.spec.selector.matchLabels['parley.io/metrics']);
      expect(scraped.map((s) => s.metadata.name).sort()).toEqual([...SERVICES].sort());
      expect(named(objects, 'PrometheusRule', 'parley').spec.groups.length).toBeGreaterThan(0);
      const dashboards = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
      expect(dashboards).toHaveLength(DASHBOARDS.length);
    });

    it('shares one pre-filled models volume instead of pulling per pod', () => {
      for (const service of MODEL_SERVICES) {
        const pod = podSpec(named(objects, 'Deployment', service));
        expect(pod.initContainers).toBeUndefined();
        expect(pod.volumes.find((v: { name: string }) => v.name === 'models').persistentVolumeClaim).toEqual({ claimName: 'models', readOnly: true });
      }
      expect(podSpec(named(objects, 'Job', 'models-pull')).volumes[0].persistentVolumeClaim.claimName).toBe('models');
    });
  }
});

describe('the manifest checks', () => {
  it('reject an object that breaks the schema', async () => {
    const objects = render('dev');
    const deployment = structuredClone(named(objects, 'Deployment', 'llm'));
    deployment.spec.replicas = 'two';
    const Model = await modelClass(deployment);
    expect(() => new Model(deployment).validate()).toThrow(/replicas/);
  });
});
