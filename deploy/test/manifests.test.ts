// Offline validation of the Kubernetes manifests, in place of `helm template | kubeconform` (neither installs here):
// every overlay rendered by Kustomize; every object checked against the Kubernetes OpenAPI schemas
// (kubernetes-models: types, required fields, enums; unknown fields are NOT refused, kubeconform -strict would);
// then what a schema cannot know: references between objects resolve, every SPLATCAST_* variable is one the server
// reads and its value passes the server's own config parser, probes hit the server's real endpoints, the drain fits
// in the grace period, GPU requests, host networking, non-root, and the HPA's metric is one the server exports.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolume } from 'kubernetes-models/v1/PersistentVolume';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import t, { type Test } from 'tap';
import { parse as parseYaml } from 'yaml';
import { deployDir, type K8sObject, kubectl, kubernetesDir, render, renderWith, repoDir } from './render.js';

type Model = new (data: never) => { validate(): void };
const MODELS: Record<string, Model> = {
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'v1/Secret': Secret,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/PersistentVolume': PersistentVolume,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

// The server's own config code (built by `npm run build`, which `npm test` runs first).
const serverConfig = (await import(path.join(repoDir, 'server', 'dist', 'config.js'))) as {
  STREAMING_ENV: Record<string, unknown>;
  parseServerConfig(raw: unknown, env: Record<string, string>): { cluster: { drainTimeoutMs: number } };
};
const adminConfig = (await import(path.join(repoDir, 'server', 'dist', 'admin', 'config.js'))) as {
  ADMIN_ENV: Record<string, unknown>;
  parseAdminConfig(raw: unknown, env: Record<string, string>): unknown;
};
const KNOWN_ENV = new Set([...Object.keys(serverConfig.STREAMING_ENV), ...Object.keys(adminConfig.ADMIN_ENV)]);

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: Record<string, Record<string, string>> }[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  securityContext?: Record<string, unknown>;
}
interface PodSpec {
  hostNetwork?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  volumes?: { name: string; secret?: { secretName: string }; persistentVolumeClaim?: { claimName: string } }[];
}
type Workload = K8sObject & {
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
};

const workloads = (objs: K8sObject[]) =>
  objs.filter((o): o is Workload => o.kind === 'Deployment' || o.kind === 'StatefulSet');
const named = (objs: K8sObject[], kind: string, name: string) =>
  objs.find((o) => o.kind === kind && o.metadata.name === name);
const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** The container's environment with $(VAR) references and downward-API fields filled the way the kubelet would. */
function environment(c: Container, secrets: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  const field: Record<string, string> = {
    'metadata.name': 'splatcast-streaming-0',
    'spec.nodeName': 'gpu-node-1',
    'status.hostIP': '10.0.0.7',
  };
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value.replace(/\$\((\w+)\)/g, (_, v: string) => env[v] ?? `$(${v})`);
    else if (e.valueFrom?.fieldRef) env[e.name] = field[e.valueFrom.fieldRef.fieldPath as string] ?? '';
    else if (e.valueFrom?.secretKeyRef) env[e.name] = secrets[e.valueFrom.secretKeyRef.key as string] ?? '';
  }
  return env;
}

/** Stand-ins for the operator-made splatcast-secrets Secret, of the lengths the server requires. */
const SECRETS = {
  'token-secret': 'x'.repeat(40),
  'admin-bootstrap-key': 'k'.repeat(40),
  'turn-password': 'p'.repeat(20),
};

function configJson(objs: K8sObject[], secretName: string): unknown {
  const secret = objs.find((o) => o.kind === 'Secret' && o.metadata.name.startsWith(secretName)) as
    | (K8sObject & { data?: Record<string, string> })
    | undefined;
  const data = secret?.data?.['config.json'];
  return data ? JSON.parse(Buffer.from(data, 'base64').toString('utf8')) : undefined;
}

/**
 * Kustomize folds long base64 Secret data over lines; the API server's decoder skips the newlines, the schema's
 * "byte" format does not: unfold before checking.
 */
function unfolded(o: K8sObject): K8sObject {
  const data = (o as { data?: Record<string, string> }).data;
  if (o.kind !== 'Secret' || !data) return o;
  return { ...o, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.replace(/\s+/g, '')])) };
}

function checkOverlay(t: Test, name: string, objs: K8sObject[], gpu: boolean): void {
  t.ok(objs.length >= 10, `${name}: ${objs.length} objects rendered`);
  for (const o of objs.map(unfolded)) {
    const model = MODELS[`${o.apiVersion}/${o.kind}`];
    if (!model) {
      t.fail(`${name}: no schema here for ${o.apiVersion} ${o.kind} (${o.metadata.name}): add it to MODELS`);
      continue;
    }
    t.doesNotThrow(() => new model(o as never).validate(), `${name}: ${o.kind} ${o.metadata.name} matches its schema`);
  }

  // References resolve: claims, generated secrets (the operator's splatcast-secrets is documented), selectors.
  const generated = objs.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name);
  for (const w of workloads(objs)) {
    const spec = w.spec.template.spec;
    t.ok(
      matches(w.spec.selector.matchLabels, w.spec.template.metadata.labels),
      `${w.metadata.name}: selector matches its pods`,
    );
    for (const v of spec.volumes ?? []) {
      if (v.persistentVolumeClaim)
        t.ok(
          named(objs, 'PersistentVolumeClaim', v.persistentVolumeClaim.claimName),
          `${w.metadata.name}: claim ${v.persistentVolumeClaim.claimName} exists`,
        );
      if (v.secret)
        t.ok(
          generated.includes(v.secret.secretName),
          `${w.metadata.name}: secret ${v.secret.secretName} is generated (hash-suffixed name)`,
        );
    }
    for (const c of spec.containers) {
      for (const e of c.env ?? []) {
        if (e.name.startsWith('SPLATCAST_'))
          t.ok(KNOWN_ENV.has(e.name), `${w.metadata.name}: ${e.name} is a variable the server reads`);
        const ref = e.valueFrom?.secretKeyRef;
        if (ref)
          t.ok(
            ref.name === 'splatcast-secrets' && ref.key in SECRETS,
            `${w.metadata.name}: ${e.name} from splatcast-secrets/${ref.key}`,
          );
      }
      t.equal(
        c.securityContext?.allowPrivilegeEscalation,
        false,
        `${w.metadata.name}/${c.name}: no privilege escalation`,
      );
    }
    t.ok(
      spec.securityContext?.runAsNonRoot && (spec.securityContext.runAsUser ?? 0) > 0,
      `${w.metadata.name}: runs as non-root`,
    );
  }
  for (const svc of objs.filter((o) => o.kind === 'Service') as (K8sObject & {
    spec: { selector: Record<string, string> };
  })[]) {
    t.ok(
      workloads(objs).some((w) => matches(svc.spec.selector, w.spec.template.metadata.labels)),
      `${name}: Service ${svc.metadata.name} selects pods`,
    );
  }

  const streaming = named(objs, 'Deployment', 'splatcast-streaming') as Workload;
  const pod = streaming.spec.template.spec;
  const c = pod.containers[0] as Container;
  const env = environment(c, SECRETS);
  const config = configJson(objs, 'splatcast-config');
  t.ok(config, `${name}: config.json is in the generated splatcast-config Secret`);
  let parsed: ReturnType<typeof serverConfig.parseServerConfig> | undefined;
  t.doesNotThrow(() => {
    parsed = serverConfig.parseServerConfig(config, env);
  }, `${name}: the streaming pod's config.json + environment pass the server's config parser`);
  const jobs = named(objs, 'Deployment', 'splatcast-jobs') as Workload;
  const jobsEnv = environment(jobs.spec.template.spec.containers[0] as Container, SECRETS);
  t.doesNotThrow(
    () => adminConfig.parseAdminConfig((config as { admin?: unknown }).admin, jobsEnv),
    `${name}: the job pod's admin config passes the admin config parser`,
  );
  t.equal(c.args?.join(' '), 'node server/dist/main.js --config /etc/splatcast/config.json');
  t.ok(pod.hostNetwork, `${name}: WebRTC on the host network`);
  t.ok(
    c.ports?.some((p) => p.protocol === 'UDP' && p.containerPort === Number(env.SPLATCAST_RTC_MIN_PORT)),
    'the UDP range start is declared',
  );
  t.equal(c.livenessProbe?.httpGet?.path, '/healthz', 'liveness: /healthz (alive even while draining)');
  t.equal(c.readinessProbe?.httpGet?.path, '/readyz', 'readiness: /readyz (503 while draining)');
  t.equal(c.startupProbe?.httpGet?.path, '/healthz');
  const drain = parsed?.cluster.drainTimeoutMs ?? 0;
  t.ok(drain > 0, `drain on SIGTERM: ${drain} ms`);
  t.ok(
    (pod.terminationGracePeriodSeconds ?? 30) * 1000 > drain + 30_000,
    `grace period ${pod.terminationGracePeriodSeconds} s covers the ${drain / 1000} s drain plus shutdown`,
  );
  t.equal(String(c.resources?.requests?.['nvidia.com/gpu'] ?? 'none'), gpu ? '1' : 'none', `${name}: GPU request`);
  t.equal(env.SPLATCAST_DEVICE, gpu ? 'cuda' : 'cpu');
  t.match(env.SPLATCAST_PUBLIC_URL, /^wss:\/\/gpu-node-1\./, 'each node announces its own public URL');

  const hpa = named(objs, 'HorizontalPodAutoscaler', 'splatcast-streaming') as K8sObject & {
    spec: {
      scaleTargetRef: { kind: string; name: string };
      metrics: { pods: { metric: { name: string }; target: { averageValue: string } } }[];
    };
  };
  t.same(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'splatcast-streaming' });
  const target = Number(hpa.spec.metrics[0]?.pods.target.averageValue);
  t.ok(
    target > 0 && target < Number(env.SPLATCAST_MAX_SESSIONS),
    `HPA target ${target} sessions/pod < the ${env.SPLATCAST_MAX_SESSIONS} limit`,
  );
  const pdb = named(objs, 'PodDisruptionBudget', 'splatcast-streaming') as K8sObject & {
    spec: { selector: { matchLabels: Record<string, string> } };
  };
  t.ok(
    matches(pdb.spec.selector.matchLabels, streaming.spec.template.metadata.labels),
    'the PDB covers the streaming pods',
  );
}

t.test('Kustomize overlays', { skip: kubectl === true ? false : kubectl }, async (t) => {
  t.test('production (GPU, coturn)', async (t) => {
    const objs = render(path.join(kubernetesDir, 'overlays', 'production'));
    checkOverlay(t, 'production', objs, true);
    t.ok(
      objs.every((o) => o.kind === 'Namespace' || o.metadata.namespace === 'splatcast'),
      'all in the splatcast namespace',
    );
    const turn = named(objs, 'Deployment', 'splatcast-coturn') as Workload;
    t.ok(turn?.spec.template.spec.hostNetwork, 'coturn on the host network');
    const images = workloads(objs).flatMap((w) => w.spec.template.spec.containers.map((c) => c.image));
    t.ok(images.includes('registry.example.com/splatcast:0.1.0-gpu'), 'the image is rewritten by the overlay');
    const ice = (configJson(objs, 'splatcast-config') as { media: { iceServers: { urls: string[] }[] } }).media
      .iceServers;
    t.match(ice[0]?.urls[0], /^turn:/, 'clients are told about the TURN server');
  });
  t.test('cpu-dev (no GPU)', async (t) => {
    checkOverlay(t, 'cpu-dev', render(path.join(kubernetesDir, 'overlays', 'cpu-dev')), false);
  });
  t.test('S3 identities component', async (t) => {
    const objs = renderWith(['s3-identities', 'cpu-only']);
    const pvc = named(objs, 'PersistentVolumeClaim', 'splatcast-identities') as K8sObject & {
      spec: Record<string, unknown>;
    };
    const pv = named(objs, 'PersistentVolume', 'splatcast-identities-s3') as K8sObject & {
      spec: { csi: { driver: string } };
    };
    t.equal(pvc.spec.volumeName, pv.metadata.name, 'the claim binds to the bucket volume');
    t.equal(pvc.spec.storageClassName, '', 'statically, not through a storage class');
    t.equal(pv.spec.csi.driver, 's3.csi.aws.com');
    for (const o of objs.map(unfolded)) {
      const model = MODELS[`${o.apiVersion}/${o.kind}`];
      if (model) t.doesNotThrow(() => new model(o as never).validate(), `${o.kind} ${o.metadata.name}`);
    }
  });
});

t.test('a broken manifest is caught (the checks can fail)', async (t) => {
  const base = parseYaml(
    readFileSync(path.join(kubernetesDir, 'base', 'streaming-deployment.yaml'), 'utf8'),
  ) as Workload;
  const broken = structuredClone(base);
  (broken.spec.template.spec.containers[0]?.ports?.[0] as { containerPort: unknown }).containerPort = 'http';
  t.throws(() => new Deployment(broken as never).validate(), /containerPort must be integer/);
  t.notOk(KNOWN_ENV.has('SPLATCAST_RTC_MINPORT'), 'a misspelt variable would be reported');
  t.throws(
    () => serverConfig.parseServerConfig({}, { SPLATCAST_DRAIN_TIMEOUT_MS: 'soon' }),
    /drainTimeoutMs/,
    'a bad value would be reported',
  );
});

t.test('prometheus-adapter serves the metric the HPA uses, which the server exports', async (t) => {
  const values = parseYaml(readFileSync(path.join(deployDir, 'prometheus-adapter', 'values.yaml'), 'utf8')) as {
    rules: { custom: { seriesQuery: string; name: { as: string } }[] };
  };
  const hpa = parseYaml(readFileSync(path.join(kubernetesDir, 'base', 'streaming-hpa.yaml'), 'utf8')) as {
    spec: { metrics: { pods: { metric: { name: string } } }[] };
  };
  const metric = hpa.spec.metrics[0]?.pods.metric.name;
  t.equal(values.rules.custom[0]?.name.as, metric);
  t.match(values.rules.custom[0]?.seriesQuery, new RegExp(`^${metric}\\{`));
  const { registry } = (await import(path.join(repoDir, 'server', 'dist', 'metrics', 'registry.js'))) as {
    registry: { getSingleMetric(name: string): unknown };
  };
  await import(path.join(repoDir, 'server', 'dist', 'metrics', 'streaming.js'));
  t.ok(registry.getSingleMetric(metric as string), `the server registers ${metric}`);
});
