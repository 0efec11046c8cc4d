import { existsSync } from 'node:fs';

type Env = Readonly<Record<string, string | undefined>>;

export type PlatformKind = 'railway' | 'kubernetes' | 'docker' | 'local';

export interface Platform {
  readonly kind: PlatformKind;
  /** The variables (or files) that made the decision, for logs: never their values. */
  readonly evidence: readonly string[];
  /**
   * A proxy of the platform stands between clients and our port, so without trusted proxies every
   * remote client reaches us with the proxy's address (Railway's edge, a Kubernetes ingress).
   */
  readonly edgeProxy: boolean;
}

/**
 * Set by Railway itself on every deployment (docs.railway.com/variables/reference). Variables a
 * user sets or copies elsewhere (RAILWAY_DEPLOYMENT_DRAINING_SECONDS, RAILWAY_VOLUME_MOUNT_PATH,
 * RAILWAY_PUBLIC_DOMAIN, RAILWAY_RUN_UID) do not count: they configure, they do not prove.
 */
export const RAILWAY_MARKERS = [
  'RAILWAY_DEPLOYMENT_ID',
  'RAILWAY_REPLICA_ID',
  'RAILWAY_ENVIRONMENT_ID',
  'RAILWAY_ENVIRONMENT_NAME',
  'RAILWAY_PROJECT_ID',
  'RAILWAY_SERVICE_ID',
] as const;

/** The kubelet injects the API server's address into every container of a pod. */
const KUBERNETES_MARKERS = ['KUBERNETES_SERVICE_HOST'] as const;

export interface HostFacts {
  /** /.dockerenv exists (Docker creates it in every container's root). */
  readonly dockerenv: boolean;
}

const present = (env: Env, name: string): boolean => (env[name] ?? '').trim() !== '';

/**
 * The one answer to "where do we run?": Railway, Kubernetes, Docker (or another container engine)
 * or a plain host. Pure: the environment and the few host facts are its only input.
 */
export function detectPlatform(env: Env, facts: HostFacts = { dockerenv: false }): Platform {
  const railway = RAILWAY_MARKERS.filter((name) => present(env, name));
  if (railway.length > 0) return { kind: 'railway', evidence: railway, edgeProxy: true };
  const kubernetes = KUBERNETES_MARKERS.filter((name) => present(env, name));
  if (kubernetes.length > 0) return { kind: 'kubernetes', evidence: kubernetes, edgeProxy: true };
  if (facts.dockerenv) return { kind: 'docker', evidence: ['/.dockerenv'], edgeProxy: false };
  // Podman, systemd-nspawn and others set `container` in the environment instead.
  if (present(env, 'container')) return { kind: 'docker', evidence: ['container'], edgeProxy: false };
  return { kind: 'local', evidence: [], edgeProxy: false };
}

export const isRailway = (env: Env): boolean => detectPlatform(env).kind === 'railway';

/** The host facts of this machine (the only I/O of platform detection). */
export function readHostFacts(): HostFacts {
  return { dockerenv: existsSync('/.dockerenv') };
}
