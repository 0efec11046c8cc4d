import { describe, expect, it } from 'vitest';
import { DEFAULTS, type Config } from '../../../src/config/config.js';
import { resolveConfig, type Invocation } from '../../../src/config/resolve-config.js';
import { expectMentions, usageErrorOf } from '../usage-error-assert.js';

type Env = Record<string, string | undefined>;

const HOME = '/home/tester';

function run(env: Env, argv: readonly string[] = []): Config {
  const invocation = resolveConfig(env, argv, HOME);
  if (invocation.command !== 'run') throw new Error(`expected the run command, got ${invocation.command}`);
  return invocation.config;
}

function errorOf(env: Env, argv: readonly string[] = []): string {
  return usageErrorOf(() => resolveConfig(env, argv, HOME));
}

describe('resolveConfig: defaults', () => {
  it('builds the documented defaults from an empty environment and no flags', () => {
    expect(run({})).toEqual({
      host: '::',
      publicPort: 8080,
      gatewayPort: 18789,
      token: { kind: 'generate' },
      stateDir: `${HOME}/.openclaw`,
      startupTimeoutMs: 180_000,
      stopTimeoutMs: 5_000,
      drainTimeoutMs: 8_000,
      drainTimeoutSource: 'default',
      railwayDrainingSeconds: null,
      shutdownDelayMs: 0,
      logLevel: 'info',
      logFields: false,
      restart: DEFAULTS.restart,
      trustedProxies: [],
      health: { channelIntervalMs: 30_000, diskIntervalMs: 60_000 },
      loopbackClients: 'local',
      allowedOrigins: [],
      metrics: null,
      alerts: { webhook: null, restarts: 3, windowMs: 600_000 },
      liveness: { intervalMs: 10_000, timeoutMs: 30_000, failuresToKill: 5 },
      gatewayCommand: null,
      openclawVersion: null,
    } satisfies Config);
  });

  it('treats an empty environment variable as unset', () => {
    expect(run({ PORT: '', SUPERVISOR_GATEWAY_PORT: '', SUPERVISOR_LOG_LEVEL: '' })).toMatchObject({ publicPort: 8080, gatewayPort: 18789, logLevel: 'info' });
  });

  it('accepts an explicit "run" command', () => {
    expect(resolveConfig({}, ['run'], HOME).command).toBe('run');
  });
});

describe('resolveConfig: good inputs', () => {
  it.each<[string, Env, string[], Partial<Config>]>([
    ['PORT', { PORT: '3000' }, [], { publicPort: 3000 }],
    ['PORT with surrounding spaces', { PORT: ' 3000 ' }, [], { publicPort: 3000 }],
    ['PORT at the lower bound', { PORT: '1' }, [], { publicPort: 1 }],
    ['PORT at the upper bound', { PORT: '65535' }, [], { publicPort: 65535 }],
    ['--port', {}, ['--port', '3001'], { publicPort: 3001 }],
    ['--port=', {}, ['--port=3002'], { publicPort: 3002 }],
    ['SUPERVISOR_GATEWAY_PORT', { SUPERVISOR_GATEWAY_PORT: '19000' }, [], { gatewayPort: 19000 }],
    ['--gateway-port', {}, ['--gateway-port', '19001'], { gatewayPort: 19001 }],
    ['HOST', { HOST: '0.0.0.0' }, [], { host: '0.0.0.0' }],
    ['liveness settings', { SUPERVISOR_LIVENESS_INTERVAL_MS: '250', SUPERVISOR_LIVENESS_TIMEOUT_MS: '1000' }, ['--liveness-failures', '2'], { liveness: { intervalMs: 250, timeoutMs: 1000, failuresToKill: 2 } }],
    ['liveness off', { SUPERVISOR_LIVENESS_INTERVAL_MS: '0' }, [], { liveness: null }],
    ['SUPERVISOR_LOOPBACK_CLIENTS', { SUPERVISOR_LOOPBACK_CLIENTS: 'remote' }, [], { loopbackClients: 'remote' }],
    ['--loopback-clients, any case', {}, ['--loopback-clients', ' Local '], { loopbackClients: 'local' }],
    ['HOST in brackets', { HOST: '[::1]' }, [], { host: '::1' }],
    ['--host name', {}, ['--host', 'localhost'], { host: 'localhost' }],
    ['SUPERVISOR_LOG_LEVEL in capitals', { SUPERVISOR_LOG_LEVEL: 'DEBUG' }, [], { logLevel: 'debug' }],
    ['--log-level silent', {}, ['--log-level', 'silent'], { logLevel: 'silent' }],
    ['SUPERVISOR_LOG_FIELDS=1', { SUPERVISOR_LOG_FIELDS: '1' }, [], { logFields: true }],
    ['--log-fields no', { SUPERVISOR_LOG_FIELDS: 'yes' }, ['--log-fields', 'no'], { logFields: false }],
    ['startup timeout', { SUPERVISOR_STARTUP_TIMEOUT_MS: '5000' }, [], { startupTimeoutMs: 5000 }],
    ['stop timeout flag', {}, ['--stop-timeout-ms=250'], { stopTimeoutMs: 250 }],
    ['largest timer-safe timeout', { SUPERVISOR_STARTUP_TIMEOUT_MS: '2147483647' }, [], { startupTimeoutMs: 2_147_483_647 }],
    ['OPENCLAW_STATE_DIR', { OPENCLAW_STATE_DIR: '/srv/state' }, [], { stateDir: '/srv/state' }],
    ['--state-dir', {}, ['--state-dir', '/srv/flag-state'], { stateDir: '/srv/flag-state' }],
    ['trusted proxies', { SUPERVISOR_TRUSTED_PROXIES: ' 10.0.0.0/8, fd00::/8 ,127.0.0.1,, ::1/128 ' }, [], { trustedProxies: ['10.0.0.0/8', 'fd00::/8', '127.0.0.1', '::1/128'] }],
    ['trusted proxies at the widest prefixes', { SUPERVISOR_TRUSTED_PROXIES: '0.0.0.0/0,10.1.2.3/32,::/0,fd00::1/128' }, [], { trustedProxies: ['0.0.0.0/0', '10.1.2.3/32', '::/0', 'fd00::1/128'] }],
    ['allowed origins, trailing slash dropped', { SUPERVISOR_ALLOWED_ORIGINS: 'https://a.example.com/, http://localhost:3000' }, [], { allowedOrigins: ['https://a.example.com', 'http://localhost:3000'] }],
    ['restart settings', { SUPERVISOR_RESTART_DELAY_MS: '500', SUPERVISOR_RESTART_MAX_DELAY_MS: '500', SUPERVISOR_RESTART_FACTOR: '1.5', SUPERVISOR_RESTART_STABLE_MS: '1000', SUPERVISOR_RESTART_LIMIT_BURST: '3', SUPERVISOR_RESTART_LIMIT_INTERVAL_MS: '60000' }, [], { restart: { initialDelayMs: 500, maxDelayMs: 500, factor: 1.5, stableAfterMs: 1000, limitBurst: 3, limitIntervalMs: 60_000 } }],
    ['restart factor at the upper bound', {}, ['--restart-factor', '10'], { restart: { ...DEFAULTS.restart, factor: 10 } }],
  ])('%s', (_name, env, argv, expected) => {
    expect(run(env, argv)).toMatchObject(expected);
  });
});

describe('resolveConfig: bad inputs throw a UsageError (exit 2) naming the input, the bad value and what is allowed', () => {
  it.each<[string, Env, string[], string[]]>([
    // ports
    ['non-numeric PORT', { PORT: 'http' }, [], ['PORT="http"', 'TCP port', '1 to 65535']],
    ['PORT 0', { PORT: '0' }, [], ['PORT="0"', '1 to 65535']],
    ['PORT above 65535', { PORT: '65536' }, [], ['PORT="65536"', '1 to 65535']],
    ['negative PORT', { PORT: '-1' }, [], ['PORT="-1"', '1 to 65535']],
    ['fractional PORT', { PORT: '80.5' }, [], ['PORT="80.5"', '1 to 65535']],
    ['hex PORT', { PORT: '0x50' }, [], ['PORT="0x50"', '1 to 65535']],
    ['exponent PORT', { PORT: '8e3' }, [], ['PORT="8e3"', '1 to 65535']],
    ['non-numeric SUPERVISOR_GATEWAY_PORT', { SUPERVISOR_GATEWAY_PORT: 'gw' }, [], ['SUPERVISOR_GATEWAY_PORT="gw"', 'TCP port', '1 to 65535']],
    ['SUPERVISOR_GATEWAY_PORT above 65535', { SUPERVISOR_GATEWAY_PORT: '99999' }, [], ['SUPERVISOR_GATEWAY_PORT="99999"', '1 to 65535']],
    ['non-numeric --port', {}, ['--port', 'abc'], ['--port="abc"', 'TCP port', '1 to 65535']],
    ['--port 0', {}, ['--port=0'], ['--port="0"', '1 to 65535']],
    ['--port above 65535', {}, ['--port', '70000'], ['--port="70000"', '1 to 65535']],
    ['empty --port=', {}, ['--port='], ['--port=""', 'TCP port']],
    ['non-numeric --gateway-port', {}, ['--gateway-port', 'x'], ['--gateway-port="x"', '1 to 65535']],
    ['PORT equal to SUPERVISOR_GATEWAY_PORT', { PORT: '9000', SUPERVISOR_GATEWAY_PORT: '9000' }, [], ['SUPERVISOR_GATEWAY_PORT=9000', 'PORT=9000', 'must differ']],
    ['PORT equal to the default gateway port', { PORT: '18789' }, [], ['SUPERVISOR_GATEWAY_PORT=18789', 'PORT=18789', 'must differ']],
    ['--port equal to --gateway-port', {}, ['--port', '7000', '--gateway-port', '7000'], ['7000', 'must differ']],
    // timeouts
    ['zero SUPERVISOR_STARTUP_TIMEOUT_MS', { SUPERVISOR_STARTUP_TIMEOUT_MS: '0' }, [], ['SUPERVISOR_STARTUP_TIMEOUT_MS="0"', 'greater than 0']],
    ['negative SUPERVISOR_STOP_TIMEOUT_MS', { SUPERVISOR_STOP_TIMEOUT_MS: '-5' }, [], ['SUPERVISOR_STOP_TIMEOUT_MS="-5"', 'greater than 0']],
    ['non-numeric SUPERVISOR_DRAIN_TIMEOUT_MS', { SUPERVISOR_DRAIN_TIMEOUT_MS: '10s' }, [], ['SUPERVISOR_DRAIN_TIMEOUT_MS="10s"', 'milliseconds']],
    ['timeout beyond what a timer can hold', { SUPERVISOR_STOP_TIMEOUT_MS: '2147483648' }, [], ['SUPERVISOR_STOP_TIMEOUT_MS="2147483648"', '2147483647']],
    ['zero --startup-timeout-ms', {}, ['--startup-timeout-ms=0'], ['--startup-timeout-ms="0"', 'greater than 0']],
    ['non-numeric --stop-timeout-ms', {}, ['--stop-timeout-ms', 'soon'], ['--stop-timeout-ms="soon"', 'milliseconds']],
    ['zero SUPERVISOR_RESTART_DELAY_MS', { SUPERVISOR_RESTART_DELAY_MS: '0' }, [], ['SUPERVISOR_RESTART_DELAY_MS="0"', 'greater than 0']],
    // restart policy
    ['restart max delay below the first delay', { SUPERVISOR_RESTART_DELAY_MS: '5000', SUPERVISOR_RESTART_MAX_DELAY_MS: '4999' }, [], ['SUPERVISOR_RESTART_MAX_DELAY_MS=4999', 'SUPERVISOR_RESTART_DELAY_MS=5000', 'at least the first delay']],
    ['first delay above the default cap', { SUPERVISOR_RESTART_DELAY_MS: '60000' }, [], ['SUPERVISOR_RESTART_MAX_DELAY_MS=30000', 'SUPERVISOR_RESTART_DELAY_MS=60000']],
    ['restart factor below 1', { SUPERVISOR_RESTART_FACTOR: '0.5' }, [], ['SUPERVISOR_RESTART_FACTOR="0.5"', '1 to 10']],
    ['restart factor above 10', {}, ['--restart-factor', '11'], ['--restart-factor="11"', '1 to 10']],
    ['non-numeric restart factor', { SUPERVISOR_RESTART_FACTOR: 'two' }, [], ['SUPERVISOR_RESTART_FACTOR="two"', '1 to 10']],
    ['zero restart burst', { SUPERVISOR_RESTART_LIMIT_BURST: '0' }, [], ['SUPERVISOR_RESTART_LIMIT_BURST="0"', '1 to 1000']],
    // host, log level, state
    ['bad HOST', { HOST: 'not a host!' }, [], ['HOST="not a host!"', 'IP address or host name']],
    ['empty --host', {}, ['--host='], ['--host=""', 'IP address or host name']],
    ['unknown log level', { SUPERVISOR_LOG_LEVEL: 'verbose' }, [], ['SUPERVISOR_LOG_LEVEL="verbose"', 'trace, debug, info, warn, error, fatal, silent']],
    ['blank OPENCLAW_STATE_DIR', { OPENCLAW_STATE_DIR: '   ' }, [], ['OPENCLAW_STATE_DIR="   "', 'non-empty']],
    ['empty --token-file=', {}, ['--token-file='], ['--token-file=""', 'non-empty']],
    // CIDRs
    ['trusted proxy that is not an address', { SUPERVISOR_TRUSTED_PROXIES: '10.0.0.0/8,proxy.internal' }, [], ['SUPERVISOR_TRUSTED_PROXIES=', '"proxy.internal" is not an IP address or CIDR range']],
    ['IPv4 prefix above 32', { SUPERVISOR_TRUSTED_PROXIES: '10.0.0.0/33' }, [], ['"10.0.0.0/33" is not an IP address or CIDR range']],
    ['loopback clients neither local nor remote', { SUPERVISOR_LOOPBACK_CLIENTS: 'yes' }, [], ['SUPERVISOR_LOOPBACK_CLIENTS="yes" is invalid', 'expected local', 'or remote']],
    ['IPv6 prefix above 128', { SUPERVISOR_TRUSTED_PROXIES: 'fd00::/129' }, [], ['"fd00::/129" is not an IP address or CIDR range']],
    ['empty prefix', { SUPERVISOR_TRUSTED_PROXIES: '10.0.0.0/' }, [], ['"10.0.0.0/" is not an IP address or CIDR range']],
    ['negative prefix', {}, ['--trusted-proxies', '10.0.0.0/-1'], ['--trusted-proxies=', '"10.0.0.0/-1" is not']],
    ['two prefixes', { SUPERVISOR_TRUSTED_PROXIES: '10.0.0.0/8/16' }, [], ['"10.0.0.0/8/16" is not']],
    ['truncated IPv4', { SUPERVISOR_TRUSTED_PROXIES: '10.0.0/8' }, [], ['"10.0.0/8" is not']],
    // origins
    ['wildcard origin', { SUPERVISOR_ALLOWED_ORIGINS: '*' }, [], ['SUPERVISOR_ALLOWED_ORIGINS="*"', '"*" is not an origin', '"*" is not allowed']],
    ['origin with a path', { SUPERVISOR_ALLOWED_ORIGINS: 'https://a.example.com/app' }, [], ['"https://a.example.com/app" is not an origin']],
    ['origin without a scheme', { SUPERVISOR_ALLOWED_ORIGINS: 'a.example.com' }, [], ['"a.example.com" is not an origin']],
    ['non-http origin', {}, ['--allowed-origins', 'ftp://a.example.com'], ['--allowed-origins="ftp://a.example.com"', 'is not an origin']],
    ['bad RAILWAY_PUBLIC_DOMAIN', { RAILWAY_PUBLIC_DOMAIN: 'bad domain' }, [], ['RAILWAY_PUBLIC_DOMAIN', 'bad domain', 'is not an origin']],
    // Railway draining
    ['non-numeric RAILWAY_DEPLOYMENT_DRAINING_SECONDS', { RAILWAY_DEPLOYMENT_DRAINING_SECONDS: 'ten' }, [], ['RAILWAY_DEPLOYMENT_DRAINING_SECONDS="ten"', 'whole seconds']],
    ['fractional RAILWAY_DEPLOYMENT_DRAINING_SECONDS', { RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '1.5' }, [], ['RAILWAY_DEPLOYMENT_DRAINING_SECONDS="1.5"', 'whole seconds']],
    ['negative RAILWAY_DEPLOYMENT_DRAINING_SECONDS', { RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '-3' }, [], ['RAILWAY_DEPLOYMENT_DRAINING_SECONDS="-3"', 'whole seconds']],
    // token
    ['empty OPENCLAW_GATEWAY_TOKEN', { OPENCLAW_GATEWAY_TOKEN: '' }, [], ['OPENCLAW_GATEWAY_TOKEN', 'empty', 'openssl rand', 'unset it']],
    ['blank OPENCLAW_GATEWAY_TOKEN', { OPENCLAW_GATEWAY_TOKEN: ' \t ' }, [], ['OPENCLAW_GATEWAY_TOKEN', 'empty']],
    // command line
    ['unknown flag', {}, ['--nope'], ['unknown flag --nope', '--help']],
    ['unknown short flag', {}, ['-x'], ['unknown flag -x', '--help']],
    ['unknown flag with a value', {}, ['--listen=8080'], ['unknown flag --listen', '--help']],
    ['a gateway flag before --', {}, ['--allow-unconfigured'], ['unknown flag --allow-unconfigured', 'after --']],
    ['flag without a value at the end', {}, ['--port'], ['--port needs a value', '--port=VALUE']],
    ['--state-dir without a value', {}, ['--state-dir'], ['--state-dir needs a value']],
    ['flag followed by another flag', {}, ['--port', '--host', '::'], ['--port']],
    ['boolean flag given a value', {}, ['--help=yes'], ['--help']],
    ['unknown command', {}, ['start'], ['unknown command "start"', '"run"', '"healthcheck"']],
    ['two commands', {}, ['run', 'healthcheck'], ['unknown command "run healthcheck"']],
    ['-- with nothing after it', {}, ['--'], ['nothing follows --', 'gateway command']],
    ['-- with nothing after it, after flags', {}, ['--port', '3000', '--'], ['nothing follows --']],
    ['--timeout-ms without healthcheck', {}, ['--timeout-ms', '100'], ['--timeout-ms belongs to the healthcheck command']],
  ])('%s', (_name, env, argv, parts) => {
    expectMentions(errorOf(env, argv), parts);
  });
});

describe('resolveConfig: HOST is an IP literal or a syntactically valid host name', () => {
  it.each<[string, string]>([
    ['::', '::'],
    ['0.0.0.0', '0.0.0.0'],
    ['127.0.0.1', '127.0.0.1'],
    ['255.255.255.255', '255.255.255.255'],
    ['::1', '::1'],
    ['[::]', '::'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['fe80::1%eth0', 'fe80::1%eth0'],
    ['2001:db8::42', '2001:db8::42'],
    ['localhost', 'localhost'],
    ['my-host.internal', 'my-host.internal'],
    ['gateway.railway.internal.', 'gateway.railway.internal.'],
    ['a', 'a'],
    ['10-0-0-1.example', '10-0-0-1.example'],
    ['3com.example', '3com.example'],
    [`${'a'.repeat(63)}.example`, `${'a'.repeat(63)}.example`],
    [' 0.0.0.0 ', '0.0.0.0'],
  ])('accepts HOST=%j', (raw, expected) => {
    expect(run({ HOST: raw }).host).toBe(expected);
  });

  it.each<[string, string]>([
    ['999.1.1.1', 'looks like an IPv4 address'],
    ['256.0.0.1', 'looks like an IPv4 address'],
    ['1.2.3', 'looks like an IPv4 address'],
    ['127.1', 'looks like an IPv4 address'],
    ['01.2.3.4', 'looks like an IPv4 address'],
    ['1.2.3.4.5', 'looks like an IPv4 address'],
    ['0x7f.0.0.1', 'looks like an IPv4 address'],
    ['12345', 'looks like an IPv4 address'],
    ['localhost:8080', 'takes no port'],
    ['[::1]:8080', 'takes no port'],
    ['0.0.0.0:8080', 'takes no port'],
    [':::', 'not a valid IPv6 address'],
    ['1::2::3', 'not a valid IPv6 address'],
    ['fe80::g', 'not a valid IPv6 address'],
    ['http://example.com', 'not a valid IPv6 address'],
    ['host_name', 'letters, digits and hyphens'],
    ['not a host!', 'letters, digits and hyphens'],
    ['exämple.com', 'letters, digits and hyphens'],
    ['-host', 'hyphen'],
    ['host-.example', 'hyphen'],
    ['a..b', 'empty label'],
    ['.example', 'empty label'],
    [`${'a'.repeat(64)}.example`, 'longer than 63 characters'],
    [`${'abcdefghi.'.repeat(25)}example`, 'at most 253 characters'],
    ['[]', 'empty'],
  ])('rejects HOST=%j (exit 2), naming HOST, the value and what is allowed', (raw, reason) => {
    const message = errorOf({ HOST: raw });
    expectMentions(message, [`HOST=${JSON.stringify(raw)}`, 'IP address or host name', '0.0.0.0', '::', reason]);
    expect(message).not.toContain('\n');
  });

  it('checks --host the same way', () => {
    expectMentions(errorOf({}, ['--host', '999.1.1.1']), ['--host="999.1.1.1"', 'looks like an IPv4 address']);
  });

  it('checks HOST for the healthcheck command too', () => {
    expectMentions(usageErrorOf(() => resolveConfig({ HOST: '999.1.1.1' }, ['healthcheck'], HOME)), ['HOST="999.1.1.1"']);
  });
});

describe('resolveConfig: the token never comes from a flag and is never echoed', () => {
  it.each([['--token', 's3cret-from-flag'], ['--token=s3cret-from-flag']])('rejects %s', (...argv) => {
    const message = errorOf({}, argv);
    expectMentions(message, ['--token is not accepted', 'OPENCLAW_GATEWAY_TOKEN', '--token-file']);
    expect(message).not.toContain('s3cret-from-flag');
  });

  it('rejects --token even when a valid token is in the environment', () => {
    expectMentions(errorOf({ OPENCLAW_GATEWAY_TOKEN: 'env-token-value-123' }, ['--token', 'x']), ['--token is not accepted']);
  });

  it('does not echo the value of an unknown flag that carries a secret', () => {
    const message = errorOf({}, ['--gateway-token=s3cret-from-flag']);
    expect(message).toContain('--gateway-token');
    expect(message).not.toContain('s3cret-from-flag');
  });

  it('keeps --token after -- in the gateway command (buildGatewayCommand rejects it there)', () => {
    expect(run({}, ['--', 'node', 'gw.js', '--token=x']).gatewayCommand).toEqual(['node', 'gw.js', '--token=x']);
  });

  it('passes a well-formed env token through trimmed, as an env source', () => {
    expect(run({ OPENCLAW_GATEWAY_TOKEN: '  abcdef0123456789\n' }).token).toEqual({ kind: 'env', value: 'abcdef0123456789' });
  });

  it.each(['short', 'has a space', 'tab\tinside'])('leaves validating a malformed non-empty token (%j) to loadToken, without echoing it in other errors', (token) => {
    expect(run({ OPENCLAW_GATEWAY_TOKEN: token }).token).toEqual({ kind: 'env', value: token });
    const message = errorOf({ OPENCLAW_GATEWAY_TOKEN: token, PORT: 'bad' }, []);
    expect(message).not.toContain(token);
  });
});

describe('resolveConfig: precedence', () => {
  it.each<[string, Env, string[], Partial<Config>]>([
    ['--port over PORT', { PORT: '3000' }, ['--port', '4000'], { publicPort: 4000 }],
    ['--gateway-port over SUPERVISOR_GATEWAY_PORT', { SUPERVISOR_GATEWAY_PORT: '19000' }, ['--gateway-port=19001'], { gatewayPort: 19001 }],
    ['--log-level over SUPERVISOR_LOG_LEVEL', { SUPERVISOR_LOG_LEVEL: 'warn' }, ['--log-level', 'error'], { logLevel: 'error' }],
    ['--state-dir over OPENCLAW_STATE_DIR and the volume', { OPENCLAW_STATE_DIR: '/env', RAILWAY_VOLUME_MOUNT_PATH: '/data' }, ['--state-dir', '/flag'], { stateDir: '/flag' }],
    ['--drain-timeout-ms over env and Railway', { SUPERVISOR_DRAIN_TIMEOUT_MS: '1000', RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '30' }, ['--drain-timeout-ms', '2500'], { drainTimeoutMs: 2500, drainTimeoutSource: 'setting', railwayDrainingSeconds: 30 }],
    ['a good flag hides a bad env value', { PORT: 'garbage' }, ['--port', '4001'], { publicPort: 4001 }],
    ['a good flag hides a bad env CIDR list', { SUPERVISOR_TRUSTED_PROXIES: 'nope' }, ['--trusted-proxies', '10.0.0.0/8'], { trustedProxies: ['10.0.0.0/8'] }],
    ['SUPERVISOR_ALLOWED_ORIGINS over RAILWAY_PUBLIC_DOMAIN', { SUPERVISOR_ALLOWED_ORIGINS: 'https://mine.example', RAILWAY_PUBLIC_DOMAIN: 'app.up.railway.app' }, [], { allowedOrigins: ['https://mine.example'] }],
  ])('%s', (_name, env, argv, expected) => {
    expect(run(env, argv)).toMatchObject(expected);
  });

  it('a bad flag still fails even when the env value is good', () => {
    expectMentions(errorOf({ PORT: '3000' }, ['--port', 'nope']), ['--port="nope"']);
  });

  it.each<[string, Env, string[], Config['token']]>([
    ['token file env over env token', { OPENCLAW_GATEWAY_TOKEN: 'env-token-value', OPENCLAW_GATEWAY_TOKEN_FILE: '/run/secrets/token' }, [], { kind: 'file', path: '/run/secrets/token' }],
    ['--token-file over env token', { OPENCLAW_GATEWAY_TOKEN: 'env-token-value' }, ['--token-file', '/flag/token'], { kind: 'file', path: '/flag/token' }],
    ['--token-file over the token file env', { OPENCLAW_GATEWAY_TOKEN_FILE: '/env/token' }, ['--token-file=/flag/token'], { kind: 'file', path: '/flag/token' }],
    ['a token file makes an empty env token harmless', { OPENCLAW_GATEWAY_TOKEN: '', OPENCLAW_GATEWAY_TOKEN_FILE: '/run/secrets/token' }, [], { kind: 'file', path: '/run/secrets/token' }],
    ['neither: generate', {}, [], { kind: 'generate' }],
  ])('%s', (_name, env, argv, token) => {
    expect(run(env, argv).token).toEqual(token);
  });
});

describe('resolveConfig: state dir', () => {
  it.each<[string, Env, string]>([
    ['home by default', {}, `${HOME}/.openclaw`],
    ['the Railway volume', { RAILWAY_VOLUME_MOUNT_PATH: '/data' }, '/data/.openclaw'],
    ['the Railway volume, trimmed', { RAILWAY_VOLUME_MOUNT_PATH: ' /data/ ' }, '/data/.openclaw'],
    ['home when the volume path is blank', { RAILWAY_VOLUME_MOUNT_PATH: '  ' }, `${HOME}/.openclaw`],
    ['OPENCLAW_STATE_DIR over the volume', { RAILWAY_VOLUME_MOUNT_PATH: '/data', OPENCLAW_STATE_DIR: '/state' }, '/state'],
  ])('%s', (_name, env, stateDir) => {
    expect(run(env).stateDir).toBe(stateDir);
  });
});

describe('resolveConfig: drain timeout', () => {
  it.each<[string, Env, number, Config['drainTimeoutSource']]>([
    ['default without Railway', {}, 8_000, 'default'],
    ['default for an empty value', { RAILWAY_DEPLOYMENT_DRAINING_SECONDS: ' ' }, 8_000, 'default'],
    ['default when Railway says 0', { RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '0' }, 8_000, 'default'],
    ['30 s minus the 2 s margin', { RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '30' }, 28_000, 'railway'],
    ['10 s minus the 2 s margin', { RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '10' }, 8_000, 'railway'],
    ['8 s: margin is exactly a quarter', { RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '8' }, 6_000, 'railway'],
    ['4 s: margin shrinks to a quarter', { RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '4' }, 3_000, 'railway'],
    ['1 s: margin shrinks to a quarter', { RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '1' }, 750, 'railway'],
    ['spaces around the seconds', { RAILWAY_DEPLOYMENT_DRAINING_SECONDS: ' 20 ' }, 18_000, 'railway'],
    ['the setting wins over Railway', { RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '30', SUPERVISOR_DRAIN_TIMEOUT_MS: '6000' }, 6_000, 'setting'],
    ['Kubernetes: its default grace period less 2 s', { KUBERNETES_SERVICE_HOST: '10.96.0.1' }, 28_000, 'kubernetes'],
    ['the setting wins over Kubernetes', { KUBERNETES_SERVICE_HOST: '10.96.0.1', SUPERVISOR_DRAIN_TIMEOUT_MS: '40000' }, 40_000, 'setting'],
  ])('%s', (_name, env, ms, source) => {
    const config = run(env);
    expect(config.drainTimeoutMs).toBe(ms);
    expect(config.drainTimeoutSource).toBe(source);
  });
});

describe('resolveConfig: the stop timeline fits in the drain (one table for drain, stop timeout and shutdown delay)', () => {
  it.each<[string, Env, { drainTimeoutMs: number; stopTimeoutMs: number; shutdownDelayMs: number }]>([
    ['defaults', {}, { drainTimeoutMs: 8_000, stopTimeoutMs: 5_000, shutdownDelayMs: 0 }],
    ['a short Railway drain shrinks the default stop timeout (5/8 of it)', { RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '2' }, { drainTimeoutMs: 1_500, stopTimeoutMs: 937, shutdownDelayMs: 0 }],
    ['a long Railway drain keeps 5 s', { RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '60' }, { drainTimeoutMs: 58_000, stopTimeoutMs: 5_000, shutdownDelayMs: 0 }],
    ['Kubernetes: 5 s shutdown delay inside a 28 s drain', { KUBERNETES_SERVICE_HOST: '10.96.0.1' }, { drainTimeoutMs: 28_000, stopTimeoutMs: 5_000, shutdownDelayMs: 5_000 }],
    ['Kubernetes with the delay turned off', { KUBERNETES_SERVICE_HOST: '10.96.0.1', SUPERVISOR_SHUTDOWN_DELAY_MS: '0' }, { drainTimeoutMs: 28_000, stopTimeoutMs: 5_000, shutdownDelayMs: 0 }],
    ['a delay outside Kubernetes', { SUPERVISOR_SHUTDOWN_DELAY_MS: '2000', SUPERVISOR_DRAIN_TIMEOUT_MS: '10000' }, { drainTimeoutMs: 10_000, stopTimeoutMs: 5_000, shutdownDelayMs: 2_000 }],
    ['a delay in the default drain shrinks the default stop timeout', { SUPERVISOR_SHUTDOWN_DELAY_MS: '4000' }, { drainTimeoutMs: 8_000, stopTimeoutMs: 2_500, shutdownDelayMs: 4_000 }],
    ['explicit values that fit exactly', { SUPERVISOR_SHUTDOWN_DELAY_MS: '3000', SUPERVISOR_STOP_TIMEOUT_MS: '5000', SUPERVISOR_DRAIN_TIMEOUT_MS: '8000' }, { drainTimeoutMs: 8_000, stopTimeoutMs: 5_000, shutdownDelayMs: 3_000 }],
  ])('%s', (_name, env, expected) => {
    expect(run(env)).toMatchObject(expected);
  });

  it.each<[string, Env, string[]]>([
    ['a stop timeout as long as the drain', { SUPERVISOR_STOP_TIMEOUT_MS: '8000' }, ['stop timeout (8000 ms)', 'drain deadline (8000 ms)', 'SUPERVISOR_STOP_TIMEOUT_MS=8000']],
    ['a stop timeout longer than a short Railway drain', { SUPERVISOR_STOP_TIMEOUT_MS: '5000', RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '2' }, ['(1500 ms)', 'RAILWAY_DEPLOYMENT_DRAINING_SECONDS']],
    ['delay plus stop past the drain', { SUPERVISOR_SHUTDOWN_DELAY_MS: '4000', SUPERVISOR_STOP_TIMEOUT_MS: '5000' }, ['shutdown delay (4000 ms)', 'SUPERVISOR_SHUTDOWN_DELAY_MS=4000', 'the default drain deadline (8000 ms)']],
    ['a delay longer than the drain', { SUPERVISOR_SHUTDOWN_DELAY_MS: '9000' }, ['shutdown delay (9000 ms)']],
    ['a negative delay', { SUPERVISOR_SHUTDOWN_DELAY_MS: '-1' }, ['SUPERVISOR_SHUTDOWN_DELAY_MS="-1"', '0 for none']],
  ])('%s is refused with the numbers', (_name, env, mentions) => {
    expectMentions(errorOf(env), mentions);
  });
});

describe('resolveConfig: allowed origins', () => {
  it.each<[string, Env, string[]]>([
    ['none by default', {}, []],
    ['https origin from RAILWAY_PUBLIC_DOMAIN', { RAILWAY_PUBLIC_DOMAIN: 'my-app.up.railway.app' }, ['https://my-app.up.railway.app']],
    ['RAILWAY_PUBLIC_DOMAIN trimmed', { RAILWAY_PUBLIC_DOMAIN: ' my-app.up.railway.app ' }, ['https://my-app.up.railway.app']],
    ['none when RAILWAY_PUBLIC_DOMAIN is blank', { RAILWAY_PUBLIC_DOMAIN: ' ' }, []],
  ])('%s', (_name, env, origins) => {
    expect(run(env).allowedOrigins).toEqual(origins);
  });
});

describe('resolveConfig: gateway command after --', () => {
  it.each<[string[], readonly string[] | null]>([
    [[], null],
    [['--', 'node', 'dist/index.js', 'gateway'], ['node', 'dist/index.js', 'gateway']],
    [['--port', '3000', '--', 'node', '--port', '1'], ['node', '--port', '1']],
    [['run', '--', 'openclaw', '--', 'x'], ['openclaw', '--', 'x']],
  ])('%j → %j', (argv, command) => {
    expect(run({}, argv).gatewayCommand).toEqual(command);
  });

  it('parses only the flags before --', () => {
    expect(run({}, ['--port', '3000', '--', 'node', '--nope']).publicPort).toBe(3000);
  });
});

describe('resolveConfig: help, version and healthcheck', () => {
  it.each<[string[], Invocation]>([
    [['--help'], { command: 'help' }],
    [['-h'], { command: 'help' }],
    [['--version'], { command: 'version' }],
    [['healthcheck', '--help'], { command: 'help' }],
  ])('%j', (argv, invocation) => {
    expect(resolveConfig({}, argv, HOME)).toEqual(invocation);
  });

  it('answers --help before validating the environment', () => {
    expect(resolveConfig({ PORT: 'bad', OPENCLAW_GATEWAY_TOKEN: '' }, ['--help'], HOME)).toEqual({ command: 'help' });
  });

  it.each<[string, Env, string[], Invocation]>([
    ['defaults', {}, ['healthcheck'], { command: 'healthcheck', host: '::', publicPort: 8080, timeoutMs: 3_000 }],
    ['PORT and HOST from env', { PORT: '3000', HOST: '127.0.0.1' }, ['healthcheck'], { command: 'healthcheck', host: '127.0.0.1', publicPort: 3000, timeoutMs: 3_000 }],
    ['--timeout-ms', {}, ['healthcheck', '--timeout-ms', '500'], { command: 'healthcheck', host: '::', publicPort: 8080, timeoutMs: 500 }],
    ['--port flag', { PORT: '3000' }, ['healthcheck', '--port=3100'], { command: 'healthcheck', host: '::', publicPort: 3100, timeoutMs: 3_000 }],
    ['ports that would clash for run', { PORT: '9000', SUPERVISOR_GATEWAY_PORT: '9000' }, ['healthcheck'], { command: 'healthcheck', host: '::', publicPort: 9000, timeoutMs: 3_000 }],
    ['no token needed', { OPENCLAW_GATEWAY_TOKEN: '' }, ['healthcheck'], { command: 'healthcheck', host: '::', publicPort: 8080, timeoutMs: 3_000 }],
  ])('healthcheck: %s', (_name, env, argv, invocation) => {
    expect(resolveConfig(env, argv, HOME)).toEqual(invocation);
  });

  it.each<[string, Env, string[], string[]]>([
    ['zero --timeout-ms', {}, ['healthcheck', '--timeout-ms', '0'], ['--timeout-ms="0"', '1 to 600000']],
    ['non-numeric --timeout-ms', {}, ['healthcheck', '--timeout-ms=fast'], ['--timeout-ms="fast"', 'milliseconds']],
    ['--timeout-ms above 10 minutes', {}, ['healthcheck', '--timeout-ms', '600001'], ['--timeout-ms="600001"']],
    ['a bad PORT', { PORT: 'x' }, ['healthcheck'], ['PORT="x"']],
    ['an extra positional', {}, ['healthcheck', 'now'], ['unknown command "healthcheck now"']],
  ])('healthcheck rejects %s', (_name, env, argv, parts) => {
    expectMentions(errorOf(env, argv), parts);
  });
});

describe('resolveConfig: metrics and alerts (issue 13)', () => {
  const HOOK = 'https://hooks.slack.com/services/T000/B000/sEcReTpAtH';

  it.each<[string, Env, string[], Partial<Config>]>([
    ['metrics off by default', {}, [], { metrics: null }],
    ['SUPERVISOR_METRICS_PORT, all interfaces by default', { SUPERVISOR_METRICS_PORT: '9464' }, [], { metrics: { port: 9464, host: '::' } }],
    ['--metrics-port with --metrics-host', {}, ['--metrics-port', '9100', '--metrics-host', '127.0.0.1'], { metrics: { port: 9100, host: '127.0.0.1' } }],
    ['SUPERVISOR_ALERT_WEBHOOK', { SUPERVISOR_ALERT_WEBHOOK: ` ${HOOK} ` }, [], { alerts: { webhook: HOOK, restarts: 3, windowMs: 600_000 } }],
    ['http webhook with a query', { SUPERVISOR_ALERT_WEBHOOK: 'http://127.0.0.1:9/hook?key=abc' }, [], { alerts: { webhook: 'http://127.0.0.1:9/hook?key=abc', restarts: 3, windowMs: 600_000 } }],
    ['alert threshold and window', { SUPERVISOR_ALERT_RESTARTS: '5', SUPERVISOR_ALERT_WINDOW_MS: '60000' }, [], { alerts: { webhook: null, restarts: 5, windowMs: 60_000 } }],
  ])('%s', (_name, env, argv, expected) => {
    expect(run(env, argv)).toMatchObject(expected);
  });

  it.each<[string, Env, string[], string[]]>([
    ['metrics port equal to PORT', { PORT: '9000', SUPERVISOR_METRICS_PORT: '9000' }, [], ['SUPERVISOR_METRICS_PORT=9000', 'PORT=9000', 'listener of their own']],
    ['metrics port equal to the gateway port', { SUPERVISOR_METRICS_PORT: '18789' }, [], ['SUPERVISOR_METRICS_PORT=18789', 'SUPERVISOR_GATEWAY_PORT=18789']],
    ['metrics port 0', { SUPERVISOR_METRICS_PORT: '0' }, [], ['SUPERVISOR_METRICS_PORT="0"', '1 to 65535']],
    ['metrics host without a port', { SUPERVISOR_METRICS_HOST: '127.0.0.1' }, [], ['SUPERVISOR_METRICS_HOST', 'SUPERVISOR_METRICS_PORT is not']],
    ['bad metrics host', { SUPERVISOR_METRICS_PORT: '9464', SUPERVISOR_METRICS_HOST: 'a b' }, [], ['SUPERVISOR_METRICS_HOST="a b"', 'IP address or host name']],
    ['webhook that is not a URL', { SUPERVISOR_ALERT_WEBHOOK: 'hooks.slack.com/services/x' }, [], ['SUPERVISOR_ALERT_WEBHOOK is invalid', 'absolute http:// or https:// URL']],
    ['webhook of another scheme', { SUPERVISOR_ALERT_WEBHOOK: 'ftp://example.com/hook' }, [], ['SUPERVISOR_ALERT_WEBHOOK is invalid (ftp://example.com)', 'not ftp:']],
    ['webhook with a password', {}, ['--alert-webhook', 'https://user:pw@example.com/hook'], ['--alert-webhook is invalid (https://example.com)', 'user name or password']],
    ['webhook with a fragment', { SUPERVISOR_ALERT_WEBHOOK: 'https://example.com/hook#x' }, [], ['SUPERVISOR_ALERT_WEBHOOK is invalid', 'fragment']],
    ['zero alert restarts', { SUPERVISOR_ALERT_RESTARTS: '0' }, [], ['SUPERVISOR_ALERT_RESTARTS="0"', '1 to 1000']],
    ['zero alert window', { SUPERVISOR_ALERT_WINDOW_MS: '0' }, [], ['SUPERVISOR_ALERT_WINDOW_MS="0"', 'greater than 0']],
  ])('rejects %s', (_name, env, argv, parts) => {
    expectMentions(errorOf(env, argv), parts);
  });

  it('never echoes the webhook URL (a secret) in its error', () => {
    const message = errorOf({ SUPERVISOR_ALERT_WEBHOOK: 'https://user:sEcReTpAtH@example.com/sEcReTpAtH' });
    expect(message).not.toContain('sEcReTpAtH');
  });
});
