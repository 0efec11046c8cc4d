import { describe, expect, it } from 'vitest';
import { describeExposure, exposureRecord, rateLimitInForce, sharedClientAddressRecord, supervisorFindings, type ExposureInput } from '../../../src/security/exposure.js';
import { detectPlatform } from '../../../src/host/platform.js';

const RAILWAY = detectPlatform({ RAILWAY_DEPLOYMENT_ID: 'dep' });
const LOCAL = detectPlatform({});
const PREPARED = { gateway: { trustedProxies: ['127.0.0.1', '::1'], controlUi: { allowedOrigins: ['https://app.up.railway.app'] } } };

const input = (over: Partial<ExposureInput> = {}): ExposureInput => ({
  platform: RAILWAY,
  host: '::',
  port: 8080,
  trustedProxies: [],
  loopbackClients: 'local',
  tokenOrigin: 'env',
  effectiveConfig: PREPARED,
  configError: null,
  ...over,
});

describe('rateLimitInForce', () => {
  it.each<[string, Record<string, unknown> | null, ReturnType<typeof rateLimitInForce>]>([
    ['no config: the gateway default', null, { source: 'gateway default', maxAttempts: 10, windowMs: 60_000, lockoutMs: 300_000, exemptLoopback: true }],
    ['unset: the gateway default', PREPARED, { source: 'gateway default', maxAttempts: 10, windowMs: 60_000, lockoutMs: 300_000, exemptLoopback: true }],
    ['partly set: the rest from the defaults', { gateway: { auth: { rateLimit: { maxAttempts: 5 } } } }, { source: 'gateway.auth.rateLimit', maxAttempts: 5, windowMs: 60_000, lockoutMs: 300_000, exemptLoopback: true }],
    ['fully set', { gateway: { auth: { rateLimit: { maxAttempts: 3, windowMs: 1000, lockoutMs: 2000.7, exemptLoopback: false } } } }, { source: 'gateway.auth.rateLimit', maxAttempts: 3, windowMs: 1000, lockoutMs: 2000, exemptLoopback: false }],
    ['negative durations clamp to 0 like the gateway', { gateway: { auth: { rateLimit: { lockoutMs: -5 } } } }, { source: 'gateway.auth.rateLimit', maxAttempts: 10, windowMs: 60_000, lockoutMs: 0, exemptLoopback: true }],
  ])('%s', (_name, config, expected) => {
    expect(rateLimitInForce(config)).toEqual(expected);
  });
});

describe('describeExposure', () => {
  it.each<[string, Partial<ExposureInput>, string]>([
    ['Railway, no trusted proxies: one shared address', {}, 'shared-edge-address'],
    ['Railway, edge trusted', { trustedProxies: ['100.64.0.2/32'] }, 'per-client-through-trusted-proxies'],
    ['Kubernetes, no trusted proxies', { platform: detectPlatform({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }) }, 'shared-edge-address'],
    ['Docker publishes ports without a proxy in between', { platform: detectPlatform({}, { dockerenv: true }) }, 'per-client'],
    ['a plain host', { platform: LOCAL }, 'per-client'],
    ['Railway but only on loopback', { host: '127.0.0.1' }, 'per-client'],
  ])('%s → %s', (_name, over, expected) => {
    expect(describeExposure(input(over)).clientAddresses).toBe(expected);
  });

  it('says who is trusted, the auth, the rate limit and the origins, without secrets', () => {
    const exposure = describeExposure(input({ trustedProxies: ['100.64.0.2'], effectiveConfig: { gateway: { ...PREPARED.gateway, trustedProxies: ['127.0.0.1', '::1', '100.64.0.2'], auth: { token: 'super-secret-token-1234' } } } }));
    expect(exposure).toMatchObject({
      platform: 'railway',
      public: true,
      address: '[::]:8080',
      trustedProxies: { frontDoor: ['100.64.0.2'], source: 'SUPERVISOR_TRUSTED_PROXIES', gateway: ['127.0.0.1', '::1', '100.64.0.2'] },
      auth: { mode: 'token', token: 'gateway.auth.token in the config (wins over OPENCLAW_GATEWAY_TOKEN)' },
      rateLimit: { source: 'gateway default', maxAttempts: 10 },
      allowedOrigins: ['https://app.up.railway.app'],
    });
    const record = exposureRecord(exposure);
    expect(JSON.stringify(record)).not.toContain('super-secret-token-1234');
    expect(record.fields).toBe(exposure);
    expect(record.message).toContain('10 failed attempts within 60 s lock a client address out for 300 s (gateway default, loopback exempt)');
    expect(record.message).toContain('X-Forwarded-For read only from proxies on this host and 100.64.0.2 (SUPERVISOR_TRUSTED_PROXIES)');
    expect(record.message).toContain('loopback clients without X-Forwarded-For are local (behind ssh -L, socat, kubectl port-forward or another TCP tunnel, set SUPERVISOR_LOOPBACK_CLIENTS=remote)');
  });

  it('the gateway trusts the front door only (loopback) when its config says nothing else; the loopback setting is said', () => {
    const exposure = describeExposure(input({ trustedProxies: ['100.64.0.2'], loopbackClients: 'remote', effectiveConfig: {} }));
    expect(exposure.trustedProxies.gateway).toEqual(['127.0.0.1', '::1']);
    expect(exposure.loopbackClients).toBe('remote');
    expect(exposureRecord(exposure).message).toContain('loopback clients without X-Forwarded-For are remote, as 192.0.2.1 (SUPERVISOR_LOOPBACK_CLIENTS=remote)');
  });

  it('an unreadable config: the rate limit is unknown, the gateway proxies are not guessed', () => {
    const exposure = describeExposure(input({ effectiveConfig: null, configError: 'JSON5: invalid character' }));
    expect(exposure.rateLimit).toEqual({ source: 'unknown', reason: 'gateway config unreadable: JSON5: invalid character' });
    expect(exposure.trustedProxies.gateway).toEqual([]);
  });
});

describe('sharedClientAddressRecord', () => {
  it('warns once behind an edge nobody trusts, naming the setting and where to find the value', () => {
    const record = sharedClientAddressRecord(describeExposure(input()));
    expect(record?.fields).toEqual({ platform: 'railway', setting: 'SUPERVISOR_TRUSTED_PROXIES', findItIn: 'front_door.forwarded_headers_replaced' });
    expect(record?.message).toContain('10 wrong tokens from anyone (a stranger) lock out every remote client, the owner included, for 300 s');
    expect(record?.message).toContain('SUPERVISOR_TRUSTED_PROXIES');
    expect(record?.message).toContain('"peer" of the front_door.forwarded_headers_replaced record');
  });

  it.each<[string, Partial<ExposureInput>]>([
    ['edge trusted', { trustedProxies: ['100.64.0.2'] }],
    ['no edge (local)', { platform: LOCAL }],
    ['not public', { host: '::1' }],
  ])('is silent when %s', (_name, over) => {
    expect(sharedClientAddressRecord(describeExposure(input(over)))).toBeNull();
  });
});

describe('supervisorFindings', () => {
  const ids = (over: Partial<ExposureInput>): string[] => supervisorFindings(describeExposure(input(over))).map((f) => `${f.severity}:${f.checkId}`);

  it.each<[string, Partial<ExposureInput>, string[]]>([
    ['Railway defaults', {}, ['info:supervisor.gateway_public_through_front_door', 'info:supervisor.auth_rate_limit_default', 'warn:supervisor.shared_client_address']],
    ['Railway, exact edge address trusted', { trustedProxies: ['100.64.0.2/32'] }, ['info:supervisor.gateway_public_through_front_door', 'info:supervisor.auth_rate_limit_default']],
    ['a whole private range trusted', { trustedProxies: ['10.0.0.0/8', 'fd12::/16'] }, ['info:supervisor.gateway_public_through_front_door', 'info:supervisor.auth_rate_limit_default', 'warn:supervisor.trusted_proxies_wide']],
    ['everyone trusted', { trustedProxies: ['0.0.0.0/0'] }, ['info:supervisor.gateway_public_through_front_door', 'info:supervisor.auth_rate_limit_default', 'critical:supervisor.trusted_proxies_wide']],
    ['lockout disabled by config', { platform: LOCAL, effectiveConfig: { gateway: { auth: { rateLimit: { lockoutMs: 0, exemptLoopback: false } } } } }, ['info:supervisor.gateway_public_through_front_door', 'critical:supervisor.auth_rate_limit_disabled', 'warn:supervisor.loopback_not_exempt']],
    ['Railway without a public domain: no origins', { effectiveConfig: { gateway: { trustedProxies: ['127.0.0.1'] } } }, ['info:supervisor.gateway_public_through_front_door', 'info:supervisor.auth_rate_limit_default', 'warn:supervisor.shared_client_address', 'info:supervisor.no_allowed_origins']],
    ['unreadable config', { platform: LOCAL, effectiveConfig: null, configError: 'bad' }, ['info:supervisor.gateway_public_through_front_door', 'warn:supervisor.config_unreadable']],
    [
      'an earlier version left SUPERVISOR_TRUSTED_PROXIES in the gateway config',
      { platform: LOCAL, effectiveConfig: { gateway: { trustedProxies: ['127.0.0.1', '::1', '127.0.0.0/8', '100.64.0.2/32'] } } },
      ['info:supervisor.gateway_public_through_front_door', 'info:supervisor.auth_rate_limit_default', 'warn:supervisor.gateway_trusts_beyond_loopback'],
    ],
    ['local only: a tunnel to it would bring local clients', { platform: LOCAL, host: '127.0.0.1' }, ['info:supervisor.loopback_clients_local']],
    ['local only, tunnel clients remote', { platform: LOCAL, host: '127.0.0.1', loopbackClients: 'remote' }, []],
    [
      'Kubernetes: kubectl port-forward clients are local',
      { platform: detectPlatform({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }) },
      ['info:supervisor.gateway_public_through_front_door', 'info:supervisor.auth_rate_limit_default', 'warn:supervisor.shared_client_address', 'warn:supervisor.loopback_clients_local'],
    ],
    [
      'Kubernetes, tunnel clients remote',
      { platform: detectPlatform({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }), loopbackClients: 'remote' },
      ['info:supervisor.gateway_public_through_front_door', 'info:supervisor.auth_rate_limit_default', 'warn:supervisor.shared_client_address'],
    ],
  ])('%s', (_name, over, expected) => {
    expect(ids(over)).toEqual(expected);
  });

  it('explains what the gateway audit cannot see and what protects the gateway', () => {
    const [first] = supervisorFindings(describeExposure(input()));
    expect(first?.detail).toContain('gateway.auth_no_rate_limit');
    expect(first?.detail).toContain('look only at gateway.bind');
    expect(first?.detail).toContain('--auth token');
    expect(first?.detail).toContain('10 failed attempts within 60 s');
  });
});
