import { describe, expect, it } from 'vitest';
import { detectPlatform, isRailway, type HostFacts, type PlatformKind } from '../../../src/host/platform.js';

type Env = Record<string, string | undefined>;
const NO_FILES: HostFacts = { dockerenv: false };
const DOCKER: HostFacts = { dockerenv: true };

describe('detectPlatform', () => {
  it.each<[string, Env, HostFacts, PlatformKind, string[], boolean]>([
    ['a plain host', { HOME: '/home/me', PATH: '/usr/bin' }, NO_FILES, 'local', [], false],
    ['Railway by its deployment id', { RAILWAY_DEPLOYMENT_ID: 'dep' }, NO_FILES, 'railway', ['RAILWAY_DEPLOYMENT_ID'], true],
    ['Railway by its replica id', { RAILWAY_REPLICA_ID: 'rep' }, NO_FILES, 'railway', ['RAILWAY_REPLICA_ID'], true],
    ['Railway by its environment name', { RAILWAY_ENVIRONMENT_NAME: 'production' }, NO_FILES, 'railway', ['RAILWAY_ENVIRONMENT_NAME'], true],
    ['Railway by its project and service ids', { RAILWAY_PROJECT_ID: 'p', RAILWAY_SERVICE_ID: 's' }, NO_FILES, 'railway', ['RAILWAY_PROJECT_ID', 'RAILWAY_SERVICE_ID'], true],
    ['Railway wins over the /.dockerenv of its image', { RAILWAY_ENVIRONMENT_ID: 'e' }, DOCKER, 'railway', ['RAILWAY_ENVIRONMENT_ID'], true],
    ['a drain setting alone is not Railway', { RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '30' }, NO_FILES, 'local', [], false],
    ['a volume path or public domain alone is not Railway', { RAILWAY_VOLUME_MOUNT_PATH: '/data', RAILWAY_PUBLIC_DOMAIN: 'x.up.railway.app' }, NO_FILES, 'local', [], false],
    ['blank Railway markers are absent', { RAILWAY_DEPLOYMENT_ID: ' ', RAILWAY_REPLICA_ID: '' }, NO_FILES, 'local', [], false],
    ['undefined markers are absent', { RAILWAY_DEPLOYMENT_ID: undefined }, NO_FILES, 'local', [], false],
    ['Kubernetes by the kubelet variable', { KUBERNETES_SERVICE_HOST: '10.96.0.1' }, DOCKER, 'kubernetes', ['KUBERNETES_SERVICE_HOST'], true],
    ['Railway wins over Kubernetes-looking variables', { KUBERNETES_SERVICE_HOST: '10.96.0.1', RAILWAY_DEPLOYMENT_ID: 'dep' }, NO_FILES, 'railway', ['RAILWAY_DEPLOYMENT_ID'], true],
    ['Docker by /.dockerenv', {}, DOCKER, 'docker', ['/.dockerenv'], false],
    ['Podman and others by `container`', { container: 'podman' }, NO_FILES, 'docker', ['container'], false],
  ])('%s', (_name, env, facts, kind, evidence, edgeProxy) => {
    expect(detectPlatform(env, facts)).toEqual({ kind, evidence, edgeProxy });
  });

  it('without host facts only the environment counts', () => {
    expect(detectPlatform({}).kind).toBe('local');
  });

  it('isRailway agrees with detectPlatform', () => {
    expect(isRailway({ RAILWAY_REPLICA_ID: 'r' })).toBe(true);
    expect(isRailway({ RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '0' })).toBe(false);
  });
});
