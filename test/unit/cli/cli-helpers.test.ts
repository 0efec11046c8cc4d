import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeRequest, parseDeviceList } from '../../../src/cli/devices.js';
import { findCliSubcommand } from '../../../src/cli/subcommands.js';
import { defaultRouteOf, publicUrls } from '../../../src/host/public-urls.js';
import { selfCommand } from '../../../src/host/self-command.js';
import { locateGatewayConfig } from '../../../src/gateway-config/config-location.js';

describe('findCliSubcommand', () => {
  it.each([
    [['openclaw', 'devices', 'list'], { name: 'openclaw', ownArgs: [], args: ['devices', 'list'] }],
    [['devices'], { name: 'devices', ownArgs: [], args: [] }],
    [['--state-dir', '/data', 'devices', 'approve', 'x'], { name: 'devices', ownArgs: ['--state-dir', '/data'], args: ['approve', 'x'] }],
    [['--gateway-port=19000', 'openclaw', '--version'], { name: 'openclaw', ownArgs: ['--gateway-port=19000'], args: ['--version'] }],
  ])('%j', (argv, expected) => {
    expect(findCliSubcommand(argv)).toEqual(expected);
  });

  it.each([[[]], [['healthcheck']], [['--', 'openclaw', 'gateway']], [['--state-dir', 'openclaw']], [['--port', '8080']]])('not a CLI call: %j', (argv) => {
    expect(findCliSubcommand(argv)).toBeNull();
  });
});

describe('selfCommand', () => {
  it('repeats only the flags that choose the gateway, never what follows --', () => {
    expect(selfCommand(['/usr/bin/node', '/app/dist/cli.js'])).toBe('node /app/dist/cli.js');
    expect(selfCommand(['node', '/app/dist/cli.js', '--port', '9000', '--state-dir', '/my state', '--gateway-port=19001', '--', 'x', '--state-dir', 'y'])).toBe(
      "node /app/dist/cli.js --state-dir '/my state' --gateway-port=19001",
    );
  });
});

describe('publicUrls', () => {
  const interfaces = {
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
    docker0: [{ address: '172.17.0.1', family: 'IPv4', internal: false }],
    eth0: [
      { address: 'fd00::5', family: 'IPv6', internal: false },
      { address: '10.1.2.3', family: 'IPv4', internal: false },
      { address: 'fe80::1', family: 'IPv6', internal: false },
    ],
    'veth1a2b': [{ address: '10.88.0.1', family: 'IPv4', internal: false }],
  } as never;

  it.each([
    ['wildcard ::: localhost and the default route\'s address, no bridges', '::', {}, 'eth0', ['http://localhost:8080/', 'http://10.1.2.3:8080/']],
    ['wildcard 0.0.0.0', '0.0.0.0', {}, 'eth0', ['http://localhost:8080/', 'http://10.1.2.3:8080/']],
    ['no default route: localhost only', '::', {}, null, ['http://localhost:8080/']],
    ['default route on an interface without IPv4', '::', {}, 'lo', ['http://localhost:8080/']],
    ['Railway: the public domain alone', '::', { RAILWAY_PUBLIC_DOMAIN: 'x.up.railway.app' }, 'eth0', ['https://x.up.railway.app/']],
    ['a specific HOST as it is', '192.168.1.5', {}, 'eth0', ['http://192.168.1.5:8080/']],
    ['a specific IPv6 HOST in brackets', '::1', {}, 'eth0', ['http://[::1]:8080/']],
  ])('%s', (_name, host, env, route, expected) => {
    expect(publicUrls(host, 8080, env, interfaces, route)).toEqual(expected);
  });

  it('finds the default route in /proc/net/route', () => {
    const table = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'podman0\t0000580A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
      'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    ].join('\n');
    expect(defaultRouteOf(table)).toBe('eth0');
    expect(defaultRouteOf(table.split('\n').slice(0, 2).join('\n'))).toBeNull();
  });
});

describe('devices helpers', () => {
  const pending = [
    { requestId: 'a', remoteIp: '10.0.0.1', platform: 'linux', clientId: 'openclaw-control-ui', clientMode: 'webchat', role: 'operator', scopes: ['operator.admin'], ts: 1_000 },
    { requestId: 'b', remoteIp: '10.0.0.2', platform: 'MacIntel', ts: 5_000 },
  ];

  it('describes a request by address, platform, client and age', () => {
    const line = describeRequest(pending[0]!, 1_000 + 150_000);
    expect(line).toContain('from 10.0.0.1');
    expect(line).toContain('platform linux');
    expect(line).toContain('client openclaw-control-ui (webchat)');
    expect(line).toContain('first seen 3 min ago');
  });

  it('reads the CLI JSON', () => {
    expect(parseDeviceList(JSON.stringify({ pending, paired: [] })).pending).toHaveLength(2);
    expect(() => parseDeviceList('{}')).toThrow(/pending/);
  });
});

describe('locateGatewayConfig', () => {
  it('is the user config, or the overlay that includes it, without writing anything', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ocs-locate-'));
    expect(locateGatewayConfig(stateDir, null)).toEqual({ configPath: join(stateDir, 'openclaw.json'), includeRoots: [], userConfigPath: join(stateDir, 'openclaw.json') });
    mkdirSync(join(stateDir, 'supervisor'));
    const overlay = join(stateDir, 'supervisor', 'openclaw.overlay.json');
    writeFileSync(overlay, JSON.stringify({ $include: '/etc/openclaw/openclaw.json5' }));
    expect(locateGatewayConfig(stateDir, '/etc/openclaw/openclaw.json5')).toEqual({ configPath: overlay, includeRoots: ['/etc/openclaw'], userConfigPath: '/etc/openclaw/openclaw.json5' });
    // An overlay made for another file is not this config's.
    expect(locateGatewayConfig(stateDir, '/other.json').configPath).toBe('/other.json');
  });
});
