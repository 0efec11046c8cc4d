import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Service } from 'kubernetes-models/v1/Service';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { parseAllDocuments } from 'yaml';
import { DEFAULTS, type Config } from '../../src/config/config.js';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { SETTINGS } from '../../src/config/settings.js';
import { HEALTH_PATH, READY_PATH } from '../../src/front-door/health.js';
import { envOf, parseDockerfile } from './dockerfile.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
export type Doc = Record<string, any>;

export interface ManifestFile {
  readonly file: string;
  readonly text: string;
  readonly docs: Doc[];
}

/** Every YAML file of a folder, each parsed strictly (duplicate keys, YAML errors and warnings throw). */
export function readManifests(dir: string): ManifestFile[] {
  return readdirSync(dir)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort()
    .map((file) => {
      const text = readFileSync(join(dir, file), 'utf8');
      const docs = parseAllDocuments(text, { uniqueKeys: true, strict: true }).map((doc) => {
        const problems = [...doc.errors, ...doc.warnings];
        if (problems.length > 0) throw new Error(`${file}: ${problems.map((p) => p.message).join('; ')}`);
        return doc.toJS() as Doc;
      });
      return { file, text, docs: docs.filter((doc) => doc !== null) };
    });
}

/** The Kubernetes kinds the manifests may hold, each with the maintained model that validates it. */
const MODELS: Record<string, { new (data: any): { validate(): void } }> = {
  'apps/v1/StatefulSet': StatefulSet,
  'v1/Service': Service,
};

/**
 * Validates one object against the Kubernetes OpenAPI schema (kubernetes-models' compiled
 * validators), and more strictly than they do: a field the schema does not know (a typo such as
 * `readinesProbe`, which the API server drops or, with strict field validation, refuses) is an
 * error too. The validators read every property their schema defines and enumerate only maps, so
 * a property never read from a non-map object is unknown to the schema.
 */
export function schemaProblems(doc: Doc): string[] {
  const Model = MODELS[`${doc['apiVersion']}/${doc['kind']}`];
  if (Model === undefined) return [`${doc['apiVersion']}/${doc['kind']}: not a kind these manifests may hold (${Object.keys(MODELS).join(', ')})`];
  const model = new Model(doc);
  const reads = new Map<object, { path: string; keys: Set<PropertyKey> }>();
  const enumerated = new Set<object>();
  const proxies = new WeakMap<object, object>();
  const track = <T>(value: T, path: string): T => {
    if (value === null || typeof value !== 'object') return value;
    const cached = proxies.get(value);
    if (cached !== undefined) return cached as T;
    const record = { path, keys: new Set<PropertyKey>() };
    reads.set(value, record);
    const proxy = new Proxy(value, {
      get(target, key, receiver) {
        record.keys.add(key);
        const inner = Reflect.get(target, key, receiver) as unknown;
        return typeof key === 'string' && Object.hasOwn(target, key) ? track(inner, `${path}/${key}`) : inner;
      },
      ownKeys(target) {
        enumerated.add(target);
        return Reflect.ownKeys(target);
      },
    });
    proxies.set(value, proxy);
    return proxy;
  };
  const problems: string[] = [];
  try {
    (Model.prototype.validate as () => void).call(track(model, ''));
  } catch (error) {
    problems.push(`${doc['kind']} ${doc['metadata']?.['name']}: ${(error as Error).message}`);
  }
  for (const [target, { path, keys }] of reads) {
    if (Array.isArray(target) || enumerated.has(target)) continue;
    for (const key of Object.keys(target)) {
      if (!keys.has(key)) problems.push(`${doc['kind']} ${doc['metadata']?.['name']}: ${path}/${key} is not a field of the Kubernetes schema`);
    }
  }
  return problems;
}

const ROOT_DIR = join(import.meta.dirname, '..', '..');

/** The image's final stage: its ENV, the user it runs as (its USER, else the SUPERVISOR_RUN_AS it drops to) and its ENTRYPOINT. */
export function imageFacts(): { env: Record<string, string>; user: string; entrypoint: string[] } {
  const instructions = parseDockerfile(join(ROOT_DIR, 'Dockerfile'));
  const finalStage = Math.max(...instructions.map((i) => i.stage));
  const final = instructions.filter((i) => i.stage === finalStage);
  const env = envOf(instructions, finalStage);
  return {
    env,
    user: final.filter((i) => i.keyword === 'USER').pop()?.args ?? env['SUPERVISOR_RUN_AS'] ?? 'root',
    entrypoint: JSON.parse(final.filter((i) => i.keyword === 'ENTRYPOINT').pop()?.args ?? '[]') as string[],
  };
}

/** `node` in the official node images (useradd -u 1000); the image's processes run as that user. */
export const IMAGE_USERS: Record<string, { uid: number; gid: number; home: string }> = { node: { uid: 1000, gid: 1000, home: '/home/node' } };

/**
 * Paths the gateway writes outside its state dir, measured with a read-only root filesystem
 * (scripts/measure-kubernetes-pod.sh): /tmp (its log /tmp/openclaw, state locks, Node's compile
 * cache) and ~/.cache (SQLite snapshot staging; without it the gateway exits 78).
 */
export const WRITABLE_PATHS = ['/tmp', '/home/node/.cache'] as const;

/** Environment variables the manifests may set that are not supervisor settings. */
const OTHER_ENV = new Set(['OPENCLAW_GATEWAY_TOKEN', 'NODE_ENV', 'NODE_OPTIONS', 'TZ']);
const SECRET_NAME = /TOKEN|SECRET|PASSWORD|WEBHOOK|KEY/i;

export interface Checked {
  readonly problems: string[];
  /** The supervisor's configuration as the pod would resolve it (null if it refuses the env). */
  readonly config: Config | null;
}

type Env = Record<string, string>;

function secondsToMs(value: unknown): number {
  return typeof value === 'number' ? value * 1000 : Number.NaN;
}

/**
 * Everything that must agree between the manifests, the image and the supervisor's own settings.
 * Returns the problems (empty when all is well) so that tests can also feed it broken manifests.
 */
export function checkDeployment(docs: Doc[]): Checked {
  const problems: string[] = [];
  const fail = (message: string): void => {
    problems.push(message);
  };
  const byKind = (kind: string): Doc[] => docs.filter((doc) => doc['kind'] === kind);
  const sets = byKind('StatefulSet');
  const services = byKind('Service');
  if (byKind('Secret').length > 0) fail('a Secret is in the manifests: the token belongs in a Secret created by hand (kubectl create secret), never in git');
  if (sets.length !== 1 || services.length !== 1) {
    fail(`expected one StatefulSet and one Service, found ${sets.length} and ${services.length}`);
    return { problems, config: null };
  }
  const set = sets[0]!;
  const service = services[0]!;
  const spec = set['spec'] ?? {};
  const pod = spec['template']?.['spec'] ?? {};
  const containers: Doc[] = pod['containers'] ?? [];
  if (containers.length !== 1) fail(`expected one container, found ${containers.length}`);
  const container = containers[0] ?? {};
  const image = imageFacts();

  // --- one replica that owns its state ---
  if (spec['replicas'] !== 1) fail(`replicas is ${spec['replicas']}: the gateway owns its state dir, so exactly 1`);
  const labels = spec['template']?.['metadata']?.['labels'] ?? {};
  const matches = (selector: Doc | undefined): boolean =>
    selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels[key] === value);
  if (!matches(spec['selector']?.['matchLabels'])) fail('the StatefulSet selector does not match its pod labels');
  if (!matches(service['spec']?.['selector'])) fail('the Service selector does not match the pod labels');
  if (spec['serviceName'] !== service['metadata']?.['name']) fail(`serviceName ${spec['serviceName']} is not the Service ${service['metadata']?.['name']}`);
  if (pod['enableServiceLinks'] !== false) fail('enableServiceLinks must be false: a Service named openclaw would inject OPENCLAW_* variables into the gateway');
  if (container['command'] !== undefined || container['args'] !== undefined) fail('command/args must be unset: the image ENTRYPOINT is the supervisor (PID 1, tini hand-over)');
  if (pod['shareProcessNamespace'] === true) fail('shareProcessNamespace would take PID 1 from the supervisor');

  // --- the environment, resolved by the supervisor itself ---
  const envList: Doc[] = container['env'] ?? [];
  const literal: Env = {};
  for (const entry of envList) {
    const name = String(entry['name']);
    const known = OTHER_ENV.has(name) || Object.values(SETTINGS).some((setting) => setting.env === name);
    if (!known) fail(`env ${name} is neither a supervisor setting nor a known variable (a typo?)`);
    if (entry['value'] !== undefined) {
      if (SECRET_NAME.test(name)) fail(`env ${name} has a literal value: secrets come from a Secret (valueFrom.secretKeyRef)`);
      literal[name] = String(entry['value']);
    } else if (SECRET_NAME.test(name) && entry['valueFrom']?.['secretKeyRef'] === undefined) {
      fail(`env ${name} must come from valueFrom.secretKeyRef`);
    }
  }
  const token = envList.find((entry) => entry['name'] === 'OPENCLAW_GATEWAY_TOKEN');
  const tokenRef = token?.['valueFrom']?.['secretKeyRef'];
  if (token === undefined || tokenRef === undefined || token['value'] !== undefined) fail('OPENCLAW_GATEWAY_TOKEN must come from a Secret (valueFrom.secretKeyRef)');
  else if (tokenRef['optional'] === true) fail('the token Secret must not be optional: without it the gateway would run with a generated token nobody knows');
  if (envList.some((entry) => entry['name'] === 'OPENCLAW_GATEWAY_TOKEN_FILE')) fail('OPENCLAW_GATEWAY_TOKEN_FILE would win over the Secret in OPENCLAW_GATEWAY_TOKEN');
  for (const name of ['SUPERVISOR_DRAIN_TIMEOUT_MS', 'SUPERVISOR_SHUTDOWN_DELAY_MS', 'OPENCLAW_STATE_DIR', 'PORT']) {
    if (literal[name] === undefined) fail(`env ${name} must be set explicitly in the manifest`);
  }

  const user = IMAGE_USERS[image.user];
  let config: Config | null = null;
  try {
    // The pod's environment: the image's ENV, the manifest's literals over it, what the kubelet adds.
    const invocation = resolveConfig({ ...image.env, ...literal, KUBERNETES_SERVICE_HOST: '10.96.0.1', OPENCLAW_GATEWAY_TOKEN: 'k8s-test-token-0123456789' }, [], user?.home ?? '/root');
    if (invocation.command === 'run') config = invocation.config;
    else fail(`the manifest's environment makes the supervisor run ${invocation.command}`);
  } catch (error) {
    fail(`the supervisor refuses the manifest's environment: ${(error as Error).message}`);
  }
  if (config === null) return { problems, config };

  // --- ports ---
  const ports: Doc[] = container['ports'] ?? [];
  const http = ports.find((port) => port['name'] === 'http');
  if (http?.['containerPort'] !== config.publicPort) fail(`containerPort http is ${http?.['containerPort']}, the supervisor listens on PORT=${config.publicPort}`);
  if (ports.length !== 1) fail(`only the public port may be declared by default, found ${ports.map((port) => port['name']).join(', ')}`);
  if (config.metrics !== null) fail(`metrics must be off by default, SUPERVISOR_METRICS_PORT=${config.metrics.port} is set`);
  const servicePorts: Doc[] = service['spec']?.['ports'] ?? [];
  if (servicePorts.length !== 1) fail(`the Service must expose the public port only, it has ${servicePorts.length} ports`);
  const targetPort = servicePorts[0]?.['targetPort'];
  const resolvedTarget = typeof targetPort === 'string' ? ports.find((port) => port['name'] === targetPort)?.['containerPort'] : targetPort;
  if (resolvedTarget !== config.publicPort) fail(`the Service targets ${String(targetPort)}, not the public port ${config.publicPort}`);
  if (config.host !== '::' && config.host !== '0.0.0.0') fail(`HOST=${config.host}: the kubelet and the Service reach the pod's address, listen on all interfaces`);

  // --- probes, answered by the supervisor on the public port ---
  const probe = (name: string, path: string): Doc | undefined => {
    const found: Doc | undefined = container[name];
    const get = found?.['httpGet'];
    if (get === undefined) {
      fail(`${name} must be an httpGet probe`);
      return found;
    }
    if (get['path'] !== path) fail(`${name} checks ${get['path']}, the supervisor answers ${path}`);
    const port = typeof get['port'] === 'string' ? ports.find((p) => p['name'] === get['port'])?.['containerPort'] : get['port'];
    if (port !== config.publicPort) fail(`${name} checks port ${String(get['port'])}, not the public port ${config.publicPort}`);
    if (get['scheme'] !== undefined && get['scheme'] !== 'HTTP') fail(`${name} uses ${get['scheme']}: the supervisor serves plain HTTP`);
    if (secondsToMs(found?.['timeoutSeconds'] ?? 1) < DEFAULTS.healthcheckTimeoutMs) {
      fail(`${name} timeoutSeconds ${found?.['timeoutSeconds'] ?? 1} is below the supervisor's own healthcheck timeout (${DEFAULTS.healthcheckTimeoutMs} ms)`);
    }
    return found;
  };
  const startup = probe('startupProbe', READY_PATH);
  probe('readinessProbe', READY_PATH);
  probe('livenessProbe', HEALTH_PATH);
  if (startup !== undefined) {
    const budgetMs = secondsToMs((startup['initialDelaySeconds'] ?? 0) + (startup['periodSeconds'] ?? 10) * (startup['failureThreshold'] ?? 3));
    // The supervisor restarts a gateway that is not ready within its startup timeout; the kubelet
    // must not kill the container before that has happened.
    if (!(budgetMs > config.startupTimeoutMs)) fail(`startupProbe allows ${budgetMs} ms, not more than SUPERVISOR_STARTUP_TIMEOUT_MS=${config.startupTimeoutMs}`);
  }

  // --- the stop: shutdown delay and drain inside the grace period ---
  const graceMs = secondsToMs(pod['terminationGracePeriodSeconds'] ?? 30);
  if (config.drainTimeoutSource !== 'setting') fail('SUPERVISOR_DRAIN_TIMEOUT_MS must be set explicitly');
  if (!(config.shutdownDelayMs > 0)) fail('SUPERVISOR_SHUTDOWN_DELAY_MS must be above 0 on Kubernetes (endpoint removal lags SIGTERM)');
  if (config.shutdownDelayMs + config.stopTimeoutMs > config.drainTimeoutMs) {
    fail(`shutdown delay ${config.shutdownDelayMs} ms + gateway stop timeout ${config.stopTimeoutMs} ms exceed the drain deadline ${config.drainTimeoutMs} ms`);
  }
  if (graceMs - config.drainTimeoutMs < DEFAULTS.drainSafetyMarginMs) {
    fail(`terminationGracePeriodSeconds ${graceMs / 1000} s must exceed the drain deadline ${config.drainTimeoutMs} ms by at least ${DEFAULTS.drainSafetyMarginMs} ms`);
  }
  if (container['lifecycle']?.['preStop'] !== undefined) fail('no preStop hook: the shutdown delay does its job, and a preStop would eat into the grace period before SIGTERM');

  // --- state on the volume, non-root, read-only root filesystem ---
  const mounts: Doc[] = container['volumeMounts'] ?? [];
  const claims: Doc[] = spec['volumeClaimTemplates'] ?? [];
  const stateMount = mounts.find((mount) => mount['mountPath'] === config.stateDir);
  if (stateMount === undefined) fail(`nothing is mounted at the state dir ${config.stateDir}`);
  else if (!claims.some((claim) => claim['metadata']?.['name'] === stateMount['name'])) fail(`the state dir is mounted from ${stateMount['name']}, not from a volumeClaimTemplate`);
  for (const claim of claims) {
    if (!(claim['spec']?.['accessModes'] ?? []).includes('ReadWriteOnce')) fail(`volumeClaimTemplate ${claim['metadata']?.['name']} must be ReadWriteOnce`);
  }
  if (user === undefined) fail(`the image runs as ${image.user}, whose uid is unknown to this check`);
  else {
    const imageDefault = resolveConfig({ ...image.env, OPENCLAW_GATEWAY_TOKEN: 'k8s-test-token-0123456789' }, [], user.home);
    if (imageDefault.command === 'run' && imageDefault.config.stateDir !== config.stateDir) {
      fail(`OPENCLAW_STATE_DIR ${config.stateDir} is not where the image keeps its state (${imageDefault.config.stateDir})`);
    }
  }
  const podSecurity = pod['securityContext'] ?? {};
  const containerSecurity = container['securityContext'] ?? {};
  const runAsUser = containerSecurity['runAsUser'] ?? podSecurity['runAsUser'];
  if ((containerSecurity['runAsNonRoot'] ?? podSecurity['runAsNonRoot']) !== true) fail('runAsNonRoot must be true');
  if (user !== undefined && runAsUser !== user.uid) fail(`runAsUser ${runAsUser} is not the image's user ${image.user} (${user.uid})`);
  if (user !== undefined && podSecurity['fsGroup'] !== user.gid) fail(`fsGroup ${podSecurity['fsGroup']} must be ${user.gid}, so that the volume is writable for ${image.user}`);
  if (containerSecurity['allowPrivilegeEscalation'] !== false) fail('allowPrivilegeEscalation must be false');
  if (!(containerSecurity['capabilities']?.['drop'] ?? []).includes('ALL')) fail('capabilities must drop ALL');
  if (containerSecurity['readOnlyRootFilesystem'] === true) {
    for (const path of WRITABLE_PATHS) {
      if (!mounts.some((mount) => mount['mountPath'] === path && mount['readOnly'] !== true)) fail(`read-only root filesystem: the gateway writes ${path}, which needs a volume`);
    }
  }
  const resources = container['resources'] ?? {};
  for (const key of ['cpu', 'memory']) if (resources['requests']?.[key] === undefined) fail(`resources.requests.${key} must be set`);
  if (resources['limits']?.['memory'] === undefined) fail('resources.limits.memory must be set');

  return { problems, config };
}

/** String values that look like a credential (long runs of token characters), with their paths. */
export function secretLookingValues(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((inner, index) => secretLookingValues(inner, `${path}/${index}`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, inner]) => (key === 'name' || key === 'key' ? [] : secretLookingValues(inner, `${path}/${key}`)));
  }
  return typeof value === 'string' && /[A-Za-z0-9+/=_-]{24,}/.test(value) ? [`${path}: ${value.slice(0, 6)}…`] : [];
}
