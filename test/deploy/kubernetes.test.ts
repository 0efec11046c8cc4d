import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/config.js';
import { SETTINGS } from '../../src/config/settings.js';
import { HEALTH_PATH, READY_PATH } from '../../src/front-door/health.js';
import { checkDeployment, imageFacts, readManifests, schemaProblems, secretLookingValues, type Doc } from '../helpers/kubernetes.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'deploy', 'kubernetes');
const files = readManifests(DIR);
const kustomization = files.find((file) => file.file === 'kustomization.yaml');
const resources = files.filter((file) => file !== kustomization);
const docs = resources.flatMap((file) => file.docs);
const clone = (): Doc[] => structuredClone(docs);
const statefulSet = (all: Doc[]): Doc => all.find((doc) => doc['kind'] === 'StatefulSet')!;
const container = (all: Doc[]): Doc => statefulSet(all)['spec']['template']['spec']['containers'][0];
const envEntry = (all: Doc[], name: string): Doc => (container(all)['env'] as Doc[]).find((entry) => entry['name'] === name)!;

describe('deploy/kubernetes', () => {
  it('holds a kustomization that applies every manifest of the folder, and nothing else', () => {
    expect(kustomization?.docs).toHaveLength(1);
    const kustomize = kustomization!.docs[0]!;
    expect(kustomize).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' });
    expect([...(kustomize['resources'] as string[])].sort()).toEqual(resources.map((file) => file.file));
    expect(docs.map((doc) => `${doc['kind']}/${doc['metadata']['name']}`).sort()).toEqual(['Service/openclaw', 'StatefulSet/openclaw']);
  });

  it('validates every manifest against the Kubernetes schemas, unknown fields included', () => {
    for (const doc of docs) expect(schemaProblems(doc), `${doc['kind']}`).toEqual([]);
  });

  it('the schema check fails on a wrong type, a misspelt field, a missing required field and an unknown kind', () => {
    const wrongType = clone();
    container(wrongType)['ports'][0]['containerPort'] = '8080';
    expect(schemaProblems(statefulSet(wrongType)).join('\n')).toMatch(/containerPort must be integer/);
    const misspelt = clone();
    container(misspelt)['readinesProbe'] = container(misspelt)['readinessProbe'];
    expect(schemaProblems(statefulSet(misspelt))).toEqual(['StatefulSet openclaw: /spec/template/spec/containers/0/readinesProbe is not a field of the Kubernetes schema']);
    const nested = clone();
    container(nested)['securityContext']['readOnlyRootFileSystem'] = true;
    expect(schemaProblems(statefulSet(nested)).join('\n')).toMatch(/securityContext\/readOnlyRootFileSystem is not a field/);
    const missing = clone();
    delete statefulSet(missing)['spec']['selector'];
    expect(schemaProblems(statefulSet(missing)).join('\n')).toMatch(/selector/);
    expect(schemaProblems({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'openclaw' } })).toEqual([expect.stringMatching(/not a kind these manifests may hold/)]);
  });

  it("agrees with the supervisor's own settings: ports, probe paths and timings, the stop, the state dir, non-root", () => {
    const { problems, config } = checkDeployment(docs);
    expect(problems).toEqual([]);
    // What the pod's environment resolves to, through the supervisor's resolveConfig.
    expect(config).toMatchObject({ publicPort: 8080, stateDir: '/home/node/.openclaw', drainTimeoutMs: 30_000, shutdownDelayMs: 5_000, stopTimeoutMs: 5_000, metrics: null });
    const c = container(docs);
    expect(c['readinessProbe']['httpGet']['path']).toBe(READY_PATH);
    expect(c['startupProbe']['httpGet']['path']).toBe(READY_PATH);
    expect(c['livenessProbe']['httpGet']['path']).toBe(HEALTH_PATH);
    expect(statefulSet(docs)['spec']['template']['spec']['terminationGracePeriodSeconds'] * 1000).toBeGreaterThanOrEqual(config!.drainTimeoutMs + DEFAULTS.drainSafetyMarginMs);
    // Kubernetes' default shutdown delay is the one set explicitly here.
    expect(config!.shutdownDelayMs).toBe(DEFAULTS.kubernetesShutdownDelayMs);
  });

  it("still fits the grace period with the supervisor's Kubernetes defaults, should the explicit timings be removed", () => {
    const all = clone();
    const list = container(all)['env'] as Doc[];
    for (const name of ['SUPERVISOR_DRAIN_TIMEOUT_MS', 'SUPERVISOR_SHUTDOWN_DELAY_MS', 'SUPERVISOR_STOP_TIMEOUT_MS']) list.splice(list.indexOf(envEntry(all, name)), 1);
    const { problems, config } = checkDeployment(all);
    // Only the demand for explicit values remains: the defaults themselves fit.
    expect(problems.filter((problem) => !/must be set explicitly/.test(problem))).toEqual([]);
    expect(config!.shutdownDelayMs).toBe(DEFAULTS.kubernetesShutdownDelayMs);
    expect(config!.drainTimeoutMs + DEFAULTS.drainSafetyMarginMs).toBeLessThanOrEqual(statefulSet(all)['spec']['template']['spec']['terminationGracePeriodSeconds'] * 1000);
  });

  // Each broken variant must be caught: the checks above can fail.
  const broken: Array<[string, (all: Doc[]) => void, RegExp]> = [
    ['probe on the gateway\'s /health', (all) => { container(all)['livenessProbe']['httpGet']['path'] = '/health'; }, /livenessProbe checks \/health, the supervisor answers \/healthz/],
    ['readiness on /healthz', (all) => { container(all)['readinessProbe']['httpGet']['path'] = HEALTH_PATH; }, /readinessProbe checks \/healthz/],
    ['probe on the gateway port', (all) => { container(all)['startupProbe']['httpGet']['port'] = DEFAULTS.gatewayPort; }, /startupProbe checks port 18789/],
    ['PORT differs from containerPort', (all) => { envEntry(all, 'PORT')['value'] = '9000'; }, /containerPort http is 8080, the supervisor listens on PORT=9000/],
    ['grace period equal to the drain', (all) => { statefulSet(all)['spec']['template']['spec']['terminationGracePeriodSeconds'] = 30; }, /terminationGracePeriodSeconds 30 s must exceed the drain deadline 30000 ms/],
    ['drain too short for delay + stop', (all) => { envEntry(all, 'SUPERVISOR_DRAIN_TIMEOUT_MS')['value'] = '9000'; }, /supervisor refuses the manifest's environment: .*SUPERVISOR_SHUTDOWN_DELAY_MS/],
    ['shutdown delay left to the default', (all) => { const list = container(all)['env'] as Doc[]; list.splice(list.indexOf(envEntry(all, 'SUPERVISOR_SHUTDOWN_DELAY_MS')), 1); }, /SUPERVISOR_SHUTDOWN_DELAY_MS must be set explicitly/],
    ['shutdown delay 0', (all) => { envEntry(all, 'SUPERVISOR_SHUTDOWN_DELAY_MS')['value'] = '0'; }, /SUPERVISOR_SHUTDOWN_DELAY_MS must be above 0/],
    ['startup probe shorter than the startup timeout', (all) => { container(all)['startupProbe']['failureThreshold'] = 30; }, /startupProbe allows 150000 ms, not more than SUPERVISOR_STARTUP_TIMEOUT_MS=180000/],
    ['probe timeout below the healthcheck timeout', (all) => { container(all)['readinessProbe']['timeoutSeconds'] = 1; }, /readinessProbe timeoutSeconds 1 is below/],
    ['token as a literal', (all) => { const token = envEntry(all, 'OPENCLAW_GATEWAY_TOKEN'); delete token['valueFrom']; token['value'] = 'abc'; }, /OPENCLAW_GATEWAY_TOKEN has a literal value/],
    ['optional token Secret', (all) => { envEntry(all, 'OPENCLAW_GATEWAY_TOKEN')['valueFrom']['secretKeyRef']['optional'] = true; }, /token Secret must not be optional/],
    ['webhook as a literal', (all) => { const hook = envEntry(all, 'SUPERVISOR_ALERT_WEBHOOK'); delete hook['valueFrom']; hook['value'] = 'https://hooks.example/x'; }, /SUPERVISOR_ALERT_WEBHOOK has a literal value/],
    ['a Secret in the manifests', (all) => { all.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'openclaw' }, stringData: { 'gateway-token': 'x' } }); }, /a Secret is in the manifests/],
    ['a misspelt setting', (all) => { envEntry(all, 'SUPERVISOR_STOP_TIMEOUT_MS')['name'] = 'SUPERVISOR_STOP_TIMEOUT'; }, /env SUPERVISOR_STOP_TIMEOUT is neither a supervisor setting/],
    ['root', (all) => { statefulSet(all)['spec']['template']['spec']['securityContext']['runAsUser'] = 0; }, /runAsUser 0 is not the image's user node \(1000\)/],
    ['runAsNonRoot off', (all) => { statefulSet(all)['spec']['template']['spec']['securityContext']['runAsNonRoot'] = false; container(all)['securityContext']['runAsNonRoot'] = false; }, /runAsNonRoot must be true/],
    ['privilege escalation', (all) => { container(all)['securityContext']['allowPrivilegeEscalation'] = true; }, /allowPrivilegeEscalation must be false/],
    ['read-only root without /tmp', (all) => { const mounts = container(all)['volumeMounts'] as Doc[]; mounts.splice(mounts.findIndex((m) => m['mountPath'] === '/tmp'), 1); }, /the gateway writes \/tmp, which needs a volume/],
    ['read-only root without ~/.cache', (all) => { const mounts = container(all)['volumeMounts'] as Doc[]; mounts.splice(mounts.findIndex((m) => m['mountPath'] === '/home/node/.cache'), 1); }, /the gateway writes \/home\/node\/.cache/],
    ['state dir elsewhere than the volume', (all) => { envEntry(all, 'OPENCLAW_STATE_DIR')['value'] = '/data/.openclaw'; }, /nothing is mounted at the state dir \/data\/.openclaw/],
    ['two replicas', (all) => { statefulSet(all)['spec']['replicas'] = 2; }, /replicas is 2/],
    ['metrics on by default', (all) => { (container(all)['env'] as Doc[]).push({ name: 'SUPERVISOR_METRICS_PORT', value: '9464' }); }, /metrics must be off by default/],
    ['metrics port in the Service', (all) => { all.find((doc) => doc['kind'] === 'Service')!['spec']['ports'].push({ name: 'metrics', port: 9464, targetPort: 9464 }); }, /the Service must expose the public port only/],
    ['service links on', (all) => { delete statefulSet(all)['spec']['template']['spec']['enableServiceLinks']; }, /enableServiceLinks must be false/],
    ['a command replacing the ENTRYPOINT', (all) => { container(all)['command'] = ['npm', 'start']; }, /command\/args must be unset/],
    ['no memory limit', (all) => { delete container(all)['resources']['limits']['memory']; }, /resources.limits.memory must be set/],
  ];
  it.each(broken)('catches a broken manifest: %s', (_name, mutate, expected) => {
    const all = clone();
    mutate(all);
    expect(checkDeployment(all).problems.join('\n')).toMatch(expected);
  });

  it('holds no secret: no Secret object, no credential-looking value, the token only by reference', () => {
    expect(docs.some((doc) => doc['kind'] === 'Secret')).toBe(false);
    expect(docs.flatMap((doc) => secretLookingValues(doc))).toEqual([]);
    expect(secretLookingValues({ env: [{ name: 'X', value: 'c2VjcmV0LXRva2VuLXZhbHVlLTAxMjM0NTY3' }] })).toHaveLength(1);
    expect(envEntry(docs, 'OPENCLAW_GATEWAY_TOKEN')).toEqual({ name: 'OPENCLAW_GATEWAY_TOKEN', valueFrom: { secretKeyRef: { name: 'openclaw', key: 'gateway-token' } } });
  });

  it('keeps its commented metrics example consistent: one port, a valid setting, not the public or gateway port', () => {
    const text = resources.map((file) => file.text).join('\n');
    const setting = /#\s*- name: SUPERVISOR_METRICS_PORT\n\s*#\s*value: "(\d+)"/.exec(text)?.[1];
    const containerPort = /#\s*- name: metrics\n\s*#\s*containerPort: (\d+)/.exec(text)?.[1];
    const annotation = /#\s*prometheus\.io\/port: "(\d+)"/.exec(text)?.[1];
    expect(setting).toBeDefined();
    expect(new Set([setting, containerPort, annotation])).toEqual(new Set([setting]));
    const port = SETTINGS.metricsPort.parse(setting!, SETTINGS.metricsPort.env);
    expect(port).not.toBe(DEFAULTS.publicPort);
    expect(port).not.toBe(DEFAULTS.gatewayPort);
    // Uncommented, the example is a valid manifest that the checks accept, metrics aside.
    const uncommented = parse(
      readFileSync(join(DIR, 'statefulset.yaml'), 'utf8')
        .split('\n')
        .map((line) => line.replace(/^(\s*)# (\s*(- name: (metrics|SUPERVISOR_METRICS_PORT)|containerPort: \d+|value: "\d+"|annotations:|prometheus\.io\/\w+: .*))$/, '$1$2'))
        .join('\n'),
    ) as Doc;
    expect(schemaProblems(uncommented)).toEqual([]);
    const withMetrics = docs.map((doc) => (doc['kind'] === 'StatefulSet' ? uncommented : doc));
    expect(checkDeployment(withMetrics).config?.metrics).toEqual({ port, host: DEFAULTS.metricsHost });
  });

  it('runs the image as built: its user, its ENTRYPOINT (the supervisor), its state dir', () => {
    const image = imageFacts();
    expect(image.user).toBe('node');
    expect(image.entrypoint).toEqual(['node', '/app/dist/cli.js']);
    expect(container(docs)['command']).toBeUndefined();
  });

  it('is what the README documents', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('\n## Run on Kubernetes\n');
    expect(start).toBeGreaterThan(0);
    const end = readme.indexOf('\n## ', start + 1);
    const section = readme.slice(start, end === -1 ? undefined : end);
    const cli = imageFacts().entrypoint.join(' ');
    expect(section).toContain('kubectl create secret generic openclaw --from-literal=gateway-token=');
    expect(section).toContain('kubectl apply -k deploy/kubernetes');
    expect(section).toContain(`kubectl exec -it openclaw-0 -- ${cli} devices`);
    expect(section).toContain(`kubectl exec -it openclaw-0 -- ${cli} devices approve <id>`);
    expect(section).toContain('SUPERVISOR_SHUTDOWN_DELAY_MS');
    expect(section).toContain('terminationGracePeriodSeconds');
  });
});
