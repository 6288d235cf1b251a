import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { validate as configMapSchema } from 'kubernetes-models/_schemas/IoK8sApiCoreV1ConfigMap';
import { validate as serviceSchema } from 'kubernetes-models/_schemas/IoK8sApiCoreV1Service';
import { validate as serviceAccountSchema } from 'kubernetes-models/_schemas/IoK8sApiCoreV1ServiceAccount';
import { validate as deploymentSchema } from 'kubernetes-models/_schemas/IoK8sApiAppsV1Deployment';
import { validate as statefulSetSchema } from 'kubernetes-models/_schemas/IoK8sApiAppsV1StatefulSet';
import { validate as hpaSchema } from 'kubernetes-models/_schemas/IoK8sApiAutoscalingV2HorizontalPodAutoscaler';
import { validate as networkPolicySchema } from 'kubernetes-models/_schemas/IoK8sApiNetworkingV1NetworkPolicy';
import { validate as pdbSchema } from 'kubernetes-models/_schemas/IoK8sApiPolicyV1PodDisruptionBudget';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { validateWorkflow } from '../../shared/compile/index.ts';
import { loadSettings, settingsSchema } from '../../engine/config.ts';
import { durationMs } from '../../shared/schema/duration.ts';
import { REPO } from '../helpers/gateway.ts';
import { startProcessGateway, type ProcessGateway } from '../helpers/process-gateway.ts';
import { freePort } from '../helpers/redis.ts';
import { until } from '../engine/replicas/support.ts';

/*
 * The Kubernetes manifests of deploy/k8s, without a cluster: every document is checked against the
 * Kubernetes API schemas (kubernetes-models, pinned exactly), with unknown fields refused as
 * `kubectl apply` (strict field validation) refuses them; then what the documents say of each
 * other and of Sluice (selectors, ports, Secrets and ConfigMaps, settings, probe paths, the drain
 * bound) is checked, and the gateway is run the way the pod runs it.
 */

const K8S = join(REPO, 'deploy', 'k8s');

/** A manifest as parsed: untyped YAML, read by the checks below as the Kubernetes API documents it. */
type Doc = Record<string, any>;
interface Kind {
  model: new (data: never) => { validate(): void };
  schema: (data: unknown) => boolean;
}
/** The kinds the manifests may hold: each validated by its kubernetes-models class and, for unknown fields, by its schema. */
const KINDS: Record<string, Kind> = {
  'v1/ServiceAccount': { model: ServiceAccount, schema: serviceAccountSchema },
  'v1/ConfigMap': { model: ConfigMap, schema: configMapSchema },
  'v1/Service': { model: Service, schema: serviceSchema },
  'apps/v1/Deployment': { model: Deployment, schema: deploymentSchema },
  'apps/v1/StatefulSet': { model: StatefulSet, schema: statefulSetSchema },
  'policy/v1/PodDisruptionBudget': { model: PodDisruptionBudget, schema: pdbSchema },
  'autoscaling/v2/HorizontalPodAutoscaler': { model: HorizontalPodAutoscaler, schema: hpaSchema },
  'networking.k8s.io/v1/NetworkPolicy': { model: NetworkPolicy, schema: networkPolicySchema },
};
const kindOf = (doc: Doc) => `${doc.apiVersion}/${doc.kind}`;

/** Errors of a document by the API schema (the model's validate()), and its fields the schema does not know. */
function schemaProblems(doc: Doc): string[] {
  const kind = KINDS[kindOf(doc)];
  if (!kind) return [`no Kubernetes schema for ${kindOf(doc)}`];
  try {
    new kind.model(doc as never).validate();
  } catch (error) {
    return [(error as Error).message];
  }
  return unknownFields(kind.schema, doc).map((path) => `unknown field ${path}`);
}

/**
 * The fields of a document its schema's validator never reads: the API server's strict field
 * validation refuses them (a misspelled `readinesProbe` would else be dropped without a word). The
 * validator reads every property its schema declares and every entry of a free map (labels,
 * ConfigMap data), so what it does not read, it does not know.
 */
function unknownFields(schema: (data: unknown) => boolean, doc: Doc): string[] {
  const read = new Map<object, Set<PropertyKey>>();
  const proxies = new WeakMap<object, object>();
  const wrap = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    let proxy = proxies.get(value);
    if (!proxy) {
      const seen = new Set<PropertyKey>();
      read.set(value, seen);
      proxy = new Proxy(value, {
        get(target, key, receiver) {
          seen.add(key);
          return wrap(Reflect.get(target, key, receiver));
        },
      });
      proxies.set(value, proxy);
    }
    return proxy;
  };
  schema(wrap(doc));
  const unknown: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) return value.forEach((item, i) => walk(item, `${path}[${i}]`));
    const seen = read.get(value);
    for (const [key, child] of Object.entries(value)) {
      if (!seen?.has(key)) unknown.push(`${path}.${key}`);
      else walk(child, `${path}.${key}`);
    }
  };
  walk(doc, '');
  return unknown.map((p) => p.slice(1));
}

/** Every YAML file under deploy/k8s, by its path relative to it. */
function yamlFiles(dir = K8S): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [relative(K8S, path)] : [];
  });
}

function parseFile(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(join(K8S, file), 'utf8'));
  for (const doc of docs) if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
  return docs.map((d) => d.toJS() as Doc).filter((d) => d !== null);
}

const files = yamlFiles();
const isKustomization = (file: string) => /(^|\/)kustomization\.ya?ml$/.test(file);
const manifests = files.filter((f) => !isKustomization(f)).flatMap((file) => parseFile(file).map((doc) => ({ file, doc })));

/** The documents a kustomization directory renders (its resources, recursively) and the files it reads. */
function render(dir: string): { docs: Doc[]; files: string[] } {
  const kustomization = parseFile(join(dir, 'kustomization.yaml'))[0]!;
  const out = { docs: [] as Doc[], files: [join(dir, 'kustomization.yaml')] };
  for (const resource of kustomization.resources as string[]) {
    const path = relative(K8S, resolve(K8S, dir, resource));
    if (statSync(join(K8S, path)).isDirectory()) {
      const inner = render(path);
      out.docs.push(...inner.docs);
      out.files.push(...inner.files);
    } else {
      out.docs.push(...parseFile(path));
      out.files.push(path);
    }
  }
  return out;
}
const kustomizations = files.filter(isKustomization).map((f) => dirname(f));
const referenced = new Set(kustomizations.flatMap((dir) => (parseFile(join(dir, 'kustomization.yaml'))[0]!.resources as string[]).map((r) => relative(K8S, resolve(K8S, dir, r)))));
/** What an operator applies: the kustomizations no other one includes. */
const overlays = kustomizations.filter((dir) => !referenced.has(dir));

const gatewayDeployment = manifests.find(({ doc }) => doc.kind === 'Deployment' && doc.metadata.name === 'sluice')!.doc;
const gateway = gatewayDeployment.spec.template.spec.containers[0];
const configMaps = new Map(manifests.filter(({ doc }) => doc.kind === 'ConfigMap').map(({ doc }) => [doc.metadata.name as string, doc]));
const workloads = manifests.filter(({ doc }) => ['Deployment', 'StatefulSet'].includes(doc.kind)).map(({ doc }) => doc);
const containersOf = (workload: Doc): Doc[] => workload.spec.template.spec.containers;
const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
/** The workloads whose pods a label selector picks. */
const podsSelectedBy = (docs: Doc[], selector: Record<string, string>) => docs.filter((d) => ['Deployment', 'StatefulSet'].includes(d.kind) && selects(selector, d.spec.template.metadata.labels));

/** README's "Kubernetes" section. */
const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const kubernetesSection = readme.slice(readme.indexOf('\n## Kubernetes\n'), readme.indexOf('\n## ', readme.indexOf('\n## Kubernetes\n') + 5));
/** The Secrets the README's Kubernetes section creates, with their keys (`kubectl [-n NS] create secret generic NAME --from-literal=KEY=…`). */
const documentedSecrets = (() => {
  const secrets = new Map<string, Set<string>>();
  for (const [, command] of kubernetesSection.replace(/\\\n\s*/g, ' ').matchAll(/kubectl (?:-n \S+ )?create secret generic ([^\n]+)/g)) {
    const [name, ...rest] = command!.split(/\s+/);
    secrets.set(name!, new Set(rest.flatMap((arg) => /^--from-(?:literal|file)=([\w.-]+)=/.exec(arg)?.[1] ?? [])));
  }
  return secrets;
})();

/** Every Secret and ConfigMap a container's env, envFrom or its pod's volumes name. */
function referencesOf(workload: Doc) {
  const refs: Array<{ kind: 'Secret' | 'ConfigMap'; name: string; key?: string; optional: boolean; where: string }> = [];
  for (const container of containersOf(workload)) {
    for (const env of container.env ?? []) {
      const secret = env.valueFrom?.secretKeyRef;
      const config = env.valueFrom?.configMapKeyRef;
      if (secret) refs.push({ kind: 'Secret', name: secret.name, key: secret.key, optional: secret.optional === true, where: `${container.name} env ${env.name}` });
      if (config) refs.push({ kind: 'ConfigMap', name: config.name, key: config.key, optional: config.optional === true, where: `${container.name} env ${env.name}` });
    }
    for (const from of container.envFrom ?? []) {
      if (from.secretRef) refs.push({ kind: 'Secret', name: from.secretRef.name, optional: from.secretRef.optional === true, where: `${container.name} envFrom` });
      if (from.configMapRef) refs.push({ kind: 'ConfigMap', name: from.configMapRef.name, optional: from.configMapRef.optional === true, where: `${container.name} envFrom` });
    }
  }
  for (const volume of workload.spec.template.spec.volumes ?? []) {
    if (volume.secret) refs.push({ kind: 'Secret', name: volume.secret.secretName, optional: volume.secret.optional === true, where: `volume ${volume.name}` });
    if (volume.configMap) refs.push({ kind: 'ConfigMap', name: volume.configMap.name, optional: volume.configMap.optional === true, where: `volume ${volume.name}` });
  }
  return refs;
}

/** A container's environment as its process sees it: literal values, ConfigMaps of envFrom, `$(NAME)` expanded as the kubelet does; secrets from `secrets`. */
function environmentOf(container: Doc, secrets: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) Object.assign(env, configMaps.get(from.configMapRef.name)?.data);
  for (const entry of container.env ?? []) {
    const secret = entry.valueFrom?.secretKeyRef;
    if (secret) env[entry.name] = secrets[`${secret.name}/${secret.key}`] ?? '';
    else env[entry.name] = String(entry.value).replace(/\$\((\w+)\)/g, (all: string, name: string) => env[name] ?? all);
  }
  return env;
}

describe('deploy/k8s against the Kubernetes API schemas', () => {
  it('has the gateway, its Service, PodDisruptionBudget, HorizontalPodAutoscaler, ConfigMaps and NetworkPolicy, and Redis two ways', () => {
    const kinds = manifests.map(({ file, doc }) => `${file}: ${doc.kind} ${doc.metadata.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'base/deployment.yaml: Deployment sluice',
        'base/service.yaml: Service sluice',
        'base/poddisruptionbudget.yaml: PodDisruptionBudget sluice',
        'base/horizontalpodautoscaler.yaml: HorizontalPodAutoscaler sluice',
        'base/configmap-workflows.yaml: ConfigMap sluice-workflows',
        'base/configmap-settings.yaml: ConfigMap sluice-settings',
        'base/networkpolicy.yaml: NetworkPolicy sluice',
        'redis-external/redis-service.yaml: Service sluice-redis',
        'redis-statefulset/redis.yaml: StatefulSet sluice-redis',
      ]),
    );
    expect(overlays.sort()).toEqual(['redis-external', 'redis-statefulset']);
  });

  it.each(manifests.map(({ file, doc }) => [`${file}: ${doc.kind} ${doc.metadata?.name}`, doc]))('%s is valid, with no field its schema does not know', (_name, doc) => {
    expect(schemaProblems(doc as Doc)).toEqual([]);
  });

  /** A copy of a manifest with one change made by `damage`. */
  const broken = (kind: string, damage: (doc: Doc) => void) => {
    const copy = structuredClone(manifests.find(({ doc }) => doc.kind === kind)!.doc);
    damage(copy);
    return copy;
  };
  it.each([
    ['a container port as a string', broken('Deployment', (d) => (d.spec.template.spec.containers[0].ports[0].containerPort = '8080')), /containerPort must be integer/],
    ['a Deployment without its selector', broken('Deployment', (d) => delete d.spec.selector), /spec must have required property selector/],
    ['a misspelled probe', broken('Deployment', (d) => (d.spec.template.spec.containers[0].readinesProbe = d.spec.template.spec.containers[0].readinessProbe)), /unknown field spec\.template\.spec\.containers\[0\]\.readinesProbe/],
    ['minReplicas as a string', broken('HorizontalPodAutoscaler', (d) => (d.spec.minReplicas = '3')), /minReplicas must be integer/],
    ['a label value that is no string', broken('PodDisruptionBudget', (d) => (d.spec.selector.matchLabels['app.kubernetes.io/name'] = 1)), /must be string/],
    ['a ConfigMap with a misplaced field', broken('ConfigMap', (d) => (d.spec = { data: d.data })), /unknown field spec/],
  ])('refuses a broken copy: %s (the check is not vacuous)', (_name, doc, problem) => {
    const problems = schemaProblems(doc);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).toMatch(problem);
  });

  it('every kustomization names files that exist, and every manifest is applied by an overlay', () => {
    const reached = new Set(overlays.flatMap((dir) => render(dir).files));
    expect(files.filter((f) => !reached.has(f))).toEqual([]);
    for (const dir of kustomizations) {
      const kustomization = parseFile(join(dir, 'kustomization.yaml'))[0]!;
      expect(kustomization).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' });
      expect(Object.keys(kustomization)).toEqual(['apiVersion', 'kind', 'resources']);
    }
    // each overlay renders one object per kind and name
    for (const dir of overlays) {
      const names = render(dir).docs.map((d) => `${d.kind}/${d.metadata.name}`);
      expect(new Set(names).size, dir).toBe(names.length);
    }
  });
});

describe('what the manifests say of each other and of Sluice', () => {
  const labels = gatewayDeployment.spec.template.metadata.labels;

  it('the Deployment selects its own pods; the Service, the PodDisruptionBudget and the NetworkPolicy select exactly them; the autoscaler scales it', () => {
    expect(selects(gatewayDeployment.spec.selector.matchLabels, labels)).toBe(true);
    for (const dir of overlays) {
      const docs = render(dir).docs;
      const one = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name)!;
      expect(podsSelectedBy(docs, one('Service', 'sluice').spec.selector).map((d) => d.metadata.name), dir).toEqual(['sluice']);
      expect(podsSelectedBy(docs, one('PodDisruptionBudget', 'sluice').spec.selector.matchLabels).map((d) => d.metadata.name), dir).toEqual(['sluice']);
      expect(podsSelectedBy(docs, one('NetworkPolicy', 'sluice').spec.podSelector.matchLabels).map((d) => d.metadata.name), dir).toEqual(['sluice']);
      const hpa = one('HorizontalPodAutoscaler', 'sluice');
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: gatewayDeployment.apiVersion, kind: 'Deployment', name: gatewayDeployment.metadata.name });
      // the autoscaler owns the replica count, and the budget leaves at least two pods serving
      expect(gatewayDeployment.spec.replicas).toBeUndefined();
      expect(hpa.spec.minReplicas - one('PodDisruptionBudget', 'sluice').spec.maxUnavailable).toBeGreaterThanOrEqual(2);
    }
    expect(gatewayDeployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });

  it('every port a Service, a probe or a NetworkPolicy names is a port of the pods it means', () => {
    const portNames = (workload: Doc) => new Map(containersOf(workload).flatMap((c) => c.ports ?? []).map((p: Doc) => [p.name as string, p.containerPort as number]));
    for (const dir of overlays) {
      const docs = render(dir).docs;
      for (const service of docs.filter((d) => d.kind === 'Service' && d.spec.type !== 'ExternalName')) {
        const [workload] = podsSelectedBy(docs, service.spec.selector);
        expect(workload, `${dir}: Service ${service.metadata.name}`).toBeDefined();
        for (const port of service.spec.ports) expect(portNames(workload!).has(port.targetPort), `${service.metadata.name} ${port.targetPort}`).toBe(true);
      }
      for (const policy of docs.filter((d) => d.kind === 'NetworkPolicy')) {
        const [workload] = podsSelectedBy(docs, policy.spec.podSelector.matchLabels);
        for (const rule of policy.spec.ingress ?? []) for (const port of rule.ports ?? []) expect(portNames(workload!).has(port.port), `${policy.metadata.name} ${port.port}`).toBe(true);
      }
    }
    for (const workload of workloads)
      for (const container of containersOf(workload))
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
          const port = container[probe]?.httpGet?.port ?? container[probe]?.tcpSocket?.port;
          if (typeof port === 'string') expect(portNames(workload).has(port), `${container.name} ${probe}`).toBe(true);
        }
  });

  it('the gateway listens where the PORT setting and the Dockerfile say, with the image built from this repository', () => {
    const http = gateway.ports.find((p: Doc) => p.name === 'http');
    expect(http.containerPort).toBe(settingsSchema.shape.PORT.parse(undefined));
    expect(environmentOf(gateway, {}).PORT).toBeUndefined();
    const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(new RegExp(`PORT=${http.containerPort}\\b`));
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${http.containerPort}$`, 'm'));
    const metrics = gateway.ports.find((p: Doc) => p.name === 'metrics');
    expect(String(metrics.containerPort)).toBe(environmentOf(gateway, {}).SLUICE_METRICS_PORT);
    const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(gateway.image).toBe(`sluice:${version}`);
    expect(environmentOf(gateway, {}).SLUICE_DATA).toBe(/SLUICE_DATA=(\S+)/.exec(dockerfile)![1]);
  });

  it('every environment variable is a setting Sluice knows, or a Secret value expanded into one; the settings load', () => {
    const known = new Set(Object.keys(settingsSchema.shape));
    for (const workload of workloads.filter((w) => w.metadata.name === 'sluice')) {
      for (const container of containersOf(workload)) {
        const names = [...(container.envFrom ?? []).flatMap((f: Doc) => Object.keys(configMaps.get(f.configMapRef.name)!.data)), ...(container.env ?? []).map((e: Doc) => e.name as string)];
        const expanded = (container.env ?? []).flatMap((e: Doc) => [...String(e.value ?? '').matchAll(/\$\((\w+)\)/g)].map((m) => m[1]));
        const unknown = names.filter((n) => !known.has(n));
        expect(unknown.filter((n) => !expanded.includes(n)), container.name).toEqual([]);
        // a variable read only to be expanded is defined before the one that expands it (the kubelet expands in order), and is no SLUICE_* name a workflow could be allowed to read
        for (const name of unknown) {
          expect(name.startsWith('SLUICE_'), name).toBe(false);
          const defined = container.env.findIndex((e: Doc) => e.name === name);
          const used = container.env.findIndex((e: Doc) => String(e.value ?? '').includes(`$(${name})`));
          expect(defined, name).toBeGreaterThanOrEqual(0);
          expect(defined, name).toBeLessThan(used);
        }
      }
      const env = environmentOf(containersOf(workload)[0]!, { 'sluice/admin-tokens': 'ops:admin:a-long-admin-token-for-the-test', 'sluice/log-subject-key': 'k', 'sluice-redis/password': '0123abcd' });
      expect(env.REDIS_URL).toBe('redis://:0123abcd@sluice-redis:6379');
      const settings = loadSettings(env);
      expect(settings.redis).toEqual({ url: 'redis://:0123abcd@sluice-redis:6379', prefix: 'prod', cluster: false });
      expect(settings.metricsPort).toBe(9464);
    }
  });

  it('each overlay names a Redis service the gateway reaches at the host and port of its REDIS_URL', () => {
    const url = new URL(environmentOf(gateway, { 'sluice-redis/password': 'p' }).REDIS_URL!);
    for (const dir of overlays) {
      const docs = render(dir).docs;
      const redis = docs.filter((d) => d.kind === 'Service' && d.metadata.name === url.hostname);
      expect(redis, dir).toHaveLength(1);
      if (redis[0]!.spec.type === 'ExternalName') continue;
      expect(redis[0]!.spec.ports.map((p: Doc) => p.port), dir).toContain(Number(url.port));
      const [statefulSet] = podsSelectedBy(docs, redis[0]!.spec.selector);
      expect(statefulSet?.kind).toBe('StatefulSet');
      expect(statefulSet!.spec.serviceName).toBe(url.hostname);
    }
  });

  it('no secret is written in a manifest: every Secret a pod reads is created as the README says, every ConfigMap exists or is optional and documented', () => {
    expect(manifests.filter(({ doc }) => doc.kind === 'Secret')).toEqual([]);
    const secretLooking = /TOKEN|PASSWORD|SECRET|_KEY$/;
    for (const workload of workloads)
      for (const container of containersOf(workload)) for (const env of container.env ?? []) if (secretLooking.test(env.name)) expect(env.value, `${container.name} ${env.name}`).toBeUndefined();
    for (const configMap of configMaps.values()) for (const key of Object.keys(configMap.data ?? {})) expect(secretLooking.test(key), key).toBe(false);

    const refs = workloads.flatMap(referencesOf);
    expect(refs.filter((r) => r.kind === 'Secret').map((r) => `${r.name}/${r.key}`).sort()).toEqual(['sluice-redis/password', 'sluice-redis/password', 'sluice/admin-tokens', 'sluice/log-subject-key']);
    for (const ref of refs) {
      if (ref.kind === 'Secret') {
        expect(documentedSecrets.get(ref.name), `${ref.where}: Secret ${ref.name}`).toBeDefined();
        if (ref.key) expect(documentedSecrets.get(ref.name)!.has(ref.key), `${ref.where}: ${ref.name}/${ref.key}`).toBe(true);
      } else if (!configMaps.has(ref.name)) {
        expect(ref.optional, `${ref.where}: ConfigMap ${ref.name}`).toBe(true);
        expect(kubernetesSection, ref.name).toContain(ref.name);
      }
    }
  });

  it('pods run as non-root with a read-only root filesystem, no capabilities, no privilege escalation, no API token, and bounded resources', () => {
    for (const workload of workloads) {
      const pod = workload.spec.template.spec;
      expect(pod.automountServiceAccountToken, workload.metadata.name).toBe(false);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      for (const container of pod.containers) {
        expect(container.securityContext, container.name).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
        expect(Object.keys(container.resources.requests).sort()).toEqual(['cpu', 'memory']);
        expect(Object.keys(container.resources.limits).sort()).toEqual(['cpu', 'memory']);
        // with a read-only root, every place written is a volume
        const mounts = (container.volumeMounts ?? []).map((m: Doc) => m.mountPath);
        if (container === gateway) expect(mounts).toEqual(expect.arrayContaining(['/data', '/tmp']));
      }
    }
    expect(readFileSync(join(REPO, 'Dockerfile'), 'utf8')).toMatch(/^USER node$/m); // uid 1000 in the node images: the runAsUser above
    expect(gatewayDeployment.spec.template.spec.securityContext.runAsUser).toBe(1000);
  });

  it('the pod is given longer than the drain takes: preStop, then SLUICE_SHUTDOWN_DELAY and SLUICE_SHUTDOWN_GRACE, then closing', () => {
    const env = environmentOf(gateway, {});
    const [command, seconds] = gateway.lifecycle.preStop.exec.command;
    expect(command).toBe('sleep');
    const preStopMs = Number(seconds) * 1000;
    expect(preStopMs).toBeGreaterThan(0); // endpoints drop the pod while it still serves everything
    const drainMs = preStopMs + durationMs(env.SLUICE_SHUTDOWN_DELAY!) + durationMs(env.SLUICE_SHUTDOWN_GRACE!);
    expect(gatewayDeployment.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(drainMs + 5_000);
    expect(gateway.readinessProbe.httpGet.path).toBe('/readyz');
    expect(gateway.livenessProbe.httpGet.path).toBe('/healthz');
  });

  it('the workflows ConfigMap holds valid workflow documents, one per *.json key named by its id', () => {
    const data = configMaps.get('sluice-workflows')!.data as Record<string, string>;
    expect(Object.keys(data).length).toBeGreaterThan(0);
    for (const [key, text] of Object.entries(data)) {
      const result = validateWorkflow(JSON.parse(text));
      expect(result.ok ? [] : result.problems, key).toEqual([]);
      expect(key).toBe(`${(JSON.parse(text) as { id: string }).id}.json`);
    }
  });
});

describe('the gateway as the pod runs it (no cluster: the pod\'s environment, mounts and probes on this machine)', () => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-pod-'));
  let gw: ProcessGateway | undefined;
  afterAll(async () => {
    await gw?.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** A ConfigMap volume as the kubelet writes it: the files in a timestamped directory, `..data` linking to it, each key a link through `..data`; an update swaps `..data` in one rename. */
  function mountConfigMap(dir: string, data: Record<string, string>, generation: number) {
    mkdirSync(dir, { recursive: true });
    const target = `..${generation}`;
    mkdirSync(join(dir, target));
    for (const [key, text] of Object.entries(data)) writeFileSync(join(dir, target, key), text);
    symlinkSync(target, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    for (const key of Object.keys(data)) {
      try {
        symlinkSync(join('..data', key), join(dir, key));
      } catch {
        // the key's link exists from an earlier generation
      }
    }
  }

  it('answers its probes, serves the workflows of its ConfigMap, serves a change of the ConfigMap, and serves /metrics on its own port', async () => {
    const dataDir = join(root, 'data');
    const workflows = configMaps.get('sluice-workflows')!.data as Record<string, string>;
    mountConfigMap(join(dataDir, 'workflows'), workflows, 1);
    mkdirSync(join(dataDir, 'fragments')); // the optional ConfigMaps, absent: empty directories
    mkdirSync(join(dataDir, 'keys'));
    const env = environmentOf(gateway, { 'sluice/admin-tokens': 'ops:admin:a-long-admin-token-for-the-test', 'sluice/log-subject-key': 'k', 'sluice-redis/password': 'p' });
    // no Redis with that password here: the file store in the data volume; ports free on this machine
    delete env.REDIS_URL;
    delete env.REDIS_PASSWORD;
    const metricsPort = await freePort();
    gw = await startProcessGateway({ env: { ...env, SLUICE_DATA: dataDir, SLUICE_METRICS_PORT: String(metricsPort) } });

    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      const answer = await gw.fetch(gateway[probe].httpGet.path);
      expect(answer.status, probe).toBe(200);
    }
    const status = await gw.fetch('/api/status');
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ status: 'ok', service: 'sluice' });

    const changed = Object.fromEntries(Object.entries(workflows).map(([key, text]) => [key, text.replace('\\"service\\": \\"sluice\\"', '\\"service\\": \\"sluice-2\\"')]));
    expect(changed).not.toEqual(workflows);
    mountConfigMap(join(dataDir, 'workflows'), changed, 2);
    await until('the changed ConfigMap served', async () => ((await (await gw!.fetch('/api/status')).json()) as { service: string }).service === 'sluice-2' || undefined, 30_000);
    expect(gw.logs.some((l) => l.msg === 'workflow refused')).toBe(false);

    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('sluice_');
  }, 60_000);
});
