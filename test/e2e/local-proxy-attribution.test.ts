import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tryConnect } from '../helpers/front-door-clients.js';
import { createNetns, type Netns } from '../helpers/netns.js';
import { freePort } from '../helpers/ports.js';
import { ROOT, startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

const DEVICE_CLIENT = join(ROOT, 'test', 'helpers', 'device-client.mjs');
const TOKEN_CLIENT = join(ROOT, 'test', 'helpers', 'gateway-client.mjs');
const RELAYED = '192.0.2.1';

/** nginx on the host, facing the namespace, proxying to the front door on loopback: the README's "HTTPS in front" shape (without TLS). */
async function startNginx(dir: string, listen: string, port: number, upstreamPort: number, bind?: string): Promise<ChildProcess> {
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
error_log ${dir}/logs/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen ${listen}:${port};
    location / {
      proxy_pass http://127.0.0.1:${upstreamPort};${bind === undefined ? '' : `
      proxy_bind ${bind};`}
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`,
  );
  const child = spawn('nginx', ['-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // Bounded: 100 connection attempts, ~10 s at most; nginx tells no one when it listens.
  for (let i = 0; i < 100; i++) {
    if ((await tryConnect(port, listen, 100)) === 'connected') return child;
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`nginx did not listen on ${listen}:${port}: ${stderr}`);
}

/** A plain TCP relay (what ssh -L, socat or kubectl port-forward are): namespace-facing address → 127.0.0.1:port, no header added. */
async function startRelay(listen: string, upstreamPort: number, port = 0): Promise<net.Server> {
  const server = net.createServer((client) => {
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(port, listen, resolve));
  return server;
}

/**
 * Issue 18 with the real gateway: remote clients in a network namespace reach the front door over
 * loopback, through a local nginx (it names them in X-Forwarded-For) or a plain TCP relay (it
 * cannot). The gateway must never take them for local clients: no silent device approval, no
 * operator.admin without pairing. Two gateway starts: the default, and SUPERVISOR_LOOPBACK_CLIENTS=remote.
 */
describe('remote clients through a proxy or tunnel on this host (real gateway)', () => {
  let ns: Netns;
  let sup: RunningSupervisor | undefined;
  let nginx: ChildProcess | undefined;
  let relay: net.Server | undefined;
  const work = mkdtempSync(join(tmpdir(), 'ocs-local-proxy-'));
  const tokenFile = join(work, 'token');

  const inNs = async (argv: string[]): Promise<Record<string, any>> => {
    const [file, ...args] = ns.exec(argv);
    const { stdout } = await promisify(execFile)(file!, args, { encoding: 'utf8', timeout: 60_000 });
    return JSON.parse(stdout) as Record<string, any>;
  };
  const device = (url: string, identity: string, ...extra: string[]): Promise<Record<string, any>> =>
    inNs([process.execPath, DEVICE_CLIENT, url, tokenFile, join(work, identity), ...extra]);
  const tokenOnly = (url: string): Promise<Record<string, any>> => inNs([process.execPath, TOKEN_CLIENT, url, tokenFile]);

  async function start(env: Record<string, string>): Promise<RunningSupervisor> {
    sup = await startSupervisor({ gateway: null, env: { SUPERVISOR_STARTUP_TIMEOUT_MS: '120000', ...env } });
    writeFileSync(tokenFile, sup.token, { mode: 0o600 });
    await sup.waitFor('gateway.ready', undefined, 120_000);
    return sup;
  }

  beforeAll(() => {
    ns = createNetns();
  });

  afterEach(async () => {
    nginx?.kill('SIGKILL');
    nginx = undefined;
    relay?.close();
    relay = undefined;
    await sup?.kill();
    sup = undefined;
  });

  afterAll(() => {
    ns?.destroy();
  });

  it('default: through nginx on the host the remote device needs pairing and gets no operator.admin; through a TCP relay it is local (the documented limit)', async () => {
    const s = await start({});
    const nginxPort = await freePort();
    nginx = await startNginx(join(work, 'nginx'), ns.hostAddress, nginxPort, s.port);
    const viaNginx = `ws://${ns.hostAddress}:${nginxPort}/`;

    const refused = await device(viaNginx, 'nginx-device.json');
    expect(refused['hello']).toMatchObject({ ok: false, error: { details: { code: 'PAIRING_REQUIRED' } } });
    const requestId = refused['hello'].error.details.requestId as string;
    // The gateway saw the namespace's own address, the client nginx named.
    expect(await s.waitFor('gateway.pairing_required', (r) => r['requestId'] === requestId, 15_000)).toMatchObject({ clientAddress: ns.nsAddress });
    expect(s.records.filter((r) => r.event === 'gateway.log' && String(r['line'] ?? r.msg).includes('device pairing auto-approved'))).toEqual([]);

    // With the token and no device: connected, without operator scopes.
    const plain = await tokenOnly(viaNginx);
    expect(plain['hello']).toMatchObject({ ok: true });
    expect(plain['hello'].scopes ?? []).not.toContain('operator.admin');
    // A proxy on this host is handled, not noise.
    expect(s.events('front_door.forwarded_headers_replaced')).toEqual([]);
    expect(s.events('front_door.attribution_refused')).toEqual([]);

    // A TCP relay adds nothing, so nothing can tell its client from a browser on this host: local.
    relay = await startRelay(ns.hostAddress, s.port);
    const viaRelay = `ws://${ns.hostAddress}:${(relay.address() as AddressInfo).port}/`;
    expect((await device(viaRelay, 'relay-device.json'))['hello']).toMatchObject({ ok: true, type: 'hello-ok' });
    expect((await tokenOnly(viaRelay))['hello'].scopes).toContain('operator.admin');
  }, 240_000);

  it('SUPERVISOR_LOOPBACK_CLIENTS=remote: a TCP relay client needs pairing, shown as 192.0.2.1; nginx from a listed loopback address (proxy_bind) names its client; the devices command stays local', async () => {
    // What ssh -L 8080:localhost:8080 gives a browser: Host and Origin http://localhost:<its port>.
    const relayPort = await freePort();
    const uiOrigin = `http://localhost:${relayPort}`;
    // As the README says: the proxy gets a loopback address of its own, listed; relays connect from 127.0.0.1.
    const s = await start({ SUPERVISOR_LOOPBACK_CLIENTS: 'remote', SUPERVISOR_ALLOWED_ORIGINS: uiOrigin, SUPERVISOR_TRUSTED_PROXIES: '127.0.0.2' });
    expect(s.events('supervisor.exposure')[0]).toMatchObject({ loopbackClients: 'remote', trustedProxies: { gateway: ['127.0.0.1', '::1'] } });
    relay = await startRelay(ns.hostAddress, s.port, relayPort);
    const viaRelay = `ws://${ns.hostAddress}:${(relay.address() as AddressInfo).port}/`;

    const refused = await device(viaRelay, 'relay-device-2.json');
    expect(refused['hello']).toMatchObject({ ok: false, error: { details: { code: 'PAIRING_REQUIRED' } } });
    const requestId = refused['hello'].error.details.requestId as string;
    expect(await s.waitFor('gateway.pairing_required', (r) => r['requestId'] === requestId, 15_000)).toMatchObject({ clientAddress: RELAYED });
    const plain = await tokenOnly(viaRelay);
    expect(plain['hello']).toMatchObject({ ok: true });
    expect(plain['hello'].scopes ?? []).not.toContain('operator.admin');
    // The Control UI through the tunnel is a remote browser: its localhost origin must be allowed
    // (SUPERVISOR_ALLOWED_ORIGINS, as the README says), then it is asked to pair like any other.
    const ui = await device(viaRelay, 'relay-ui.json', '--control-ui', `host:localhost:${relayPort}`, `origin:${uiOrigin}`);
    expect(ui['hello']).toMatchObject({ ok: false, error: { details: { code: 'PAIRING_REQUIRED' } } });
    const otherOrigin = await device(viaRelay, 'relay-ui.json', '--control-ui', `host:localhost:${relayPort}`, 'origin:http://localhost:1');
    expect(otherOrigin['hello']).toMatchObject({ ok: false, error: { details: { code: 'CONTROL_UI_ORIGIN_NOT_ALLOWED' } } });

    const nginxPort = await freePort();
    nginx = await startNginx(join(work, 'nginx-2'), ns.hostAddress, nginxPort, s.port, '127.0.0.2');
    const viaNginx = await device(`ws://${ns.hostAddress}:${nginxPort}/`, 'nginx-device-2.json');
    expect(viaNginx['hello']).toMatchObject({ ok: false, error: { details: { code: 'PAIRING_REQUIRED' } } });
    const nginxRequest = viaNginx['hello'].error.details.requestId as string;
    expect(await s.waitFor('gateway.pairing_required', (r) => r['requestId'] === nginxRequest, 15_000)).toMatchObject({ clientAddress: ns.nsAddress });

    // The operator commands reach the gateway's own port, never the front door: still local, still working.
    const listed = await runCli(['devices'], { PATH: process.env['PATH'], HOME: process.env['HOME'], PORT: String(s.port), SUPERVISOR_GATEWAY_PORT: String(s.gatewayPort), OPENCLAW_STATE_DIR: s.stateDir, OPENCLAW_GATEWAY_TOKEN: s.token, SUPERVISOR_LOOPBACK_CLIENTS: 'remote' }, 90_000);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(requestId);
    expect(listed.stdout).toContain(RELAYED);
  }, 240_000);
});
