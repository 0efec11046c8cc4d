import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { generatedBody, httpRequest, rawExchange } from '../helpers/front-door-clients.js';
import { startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

let sup: RunningSupervisor | undefined;
const agents: http.Agent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) agent.destroy();
  await sup?.kill();
  sup = undefined;
});

async function ready(env: Record<string, string> = {}): Promise<RunningSupervisor> {
  sup = await startSupervisor({ env });
  await sup.waitFor('gateway.ready');
  return sup;
}

interface EchoedHeaders {
  headers: Record<string, string | undefined>;
  remoteAddress: string;
}

describe('front door: HTTP forwarding', () => {
  it('forwards method, path and query verbatim; a local client reaches the gateway without X-Forwarded-*', async () => {
    const s = await ready();
    const page = await httpRequest({ port: s.port, path: '/some/deep/path?x=1&y=%20z&x=2' });
    expect(page.status).toBe(200);
    expect(page.body.toString()).toBe('fake gateway GET /some/deep/path?x=1&y=%20z&x=2');

    // A header named in Connection is hop-by-hop and must not reach the gateway.
    const res = await httpRequest({ port: s.port, path: '/headers?q=1', headers: { 'x-custom': 'kept', connection: 'keep-alive, x-hop', 'x-hop': 'secret' } });
    expect(res.status).toBe(200);
    const echoed = JSON.parse(res.body.toString()) as EchoedHeaders;
    expect(echoed.headers['x-custom']).toBe('kept');
    expect(echoed.headers['host']).toBe(`127.0.0.1:${s.port}`);
    // A loopback peer that speaks for nobody is the local client it is (an X-Forwarded-For of
    // 127.0.0.1 is refused by the gateway): no forwarding header at all.
    for (const name of ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip', 'forwarded', 'x-hop']) {
      expect(echoed.headers[name], name).toBeUndefined();
    }
    expect(echoed.remoteAddress).toBe('127.0.0.1');
  });

  it('a proxy on this host is a proxy: the client it names reaches the gateway, never as local; one that names nobody is refused', async () => {
    const s = await ready();
    const proxied = {
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'public.example',
      'x-forwarded-port': '443',
      'x-real-ip': '203.0.113.9',
      forwarded: 'for=203.0.113.9',
    };
    for (let i = 0; i < 2; i++) {
      const echoed = JSON.parse((await httpRequest({ port: s.port, path: '/headers', headers: proxied })).body.toString()) as EchoedHeaders;
      expect(echoed.headers['x-forwarded-for']).toBe('203.0.113.9');
      expect(echoed.headers['x-forwarded-proto']).toBe('https');
      expect(echoed.headers['x-forwarded-host']).toBe('public.example');
      // X-Real-IP, Forwarded and X-Forwarded-Port are never passed on (the gateway reads X-Forwarded-For only).
      for (const name of ['x-forwarded-port', 'x-real-ip', 'forwarded']) expect(echoed.headers[name], name).toBeUndefined();
    }
    // The chain is walked here, right to left: the first hop that is neither loopback nor trusted is the client, sent alone.
    const chained = JSON.parse((await httpRequest({ port: s.port, path: '/headers', headers: { 'x-forwarded-for': '203.0.113.9, 198.51.100.1, 127.0.0.1' } })).body.toString()) as EchoedHeaders;
    expect(chained.headers['x-forwarded-for']).toBe('198.51.100.1');
    expect(chained.headers['x-forwarded-proto']).toBe('http');
    expect(chained.headers['x-forwarded-host']).toBe(`127.0.0.1:${s.port}`);
    expect(s.events('front_door.forwarded_headers_replaced')).toHaveLength(0);

    // Forwarding headers that name nobody: 403, never forwarded (as local or otherwise).
    for (const headers of [{ 'x-forwarded-for': '127.0.0.1' }, { 'x-real-ip': '203.0.113.9' }, { 'x-forwarded-for': 'client.example' }]) {
      const refused = await httpRequest({ port: s.port, path: '/headers', headers });
      expect(refused.status, JSON.stringify(headers)).toBe(403);
      expect(JSON.parse(refused.body.toString())).toMatchObject({ error: 'proxy_attribution_required' });
    }
    // The WebSocket upgrade gets the same answer.
    const upgrade = await rawExchange(
      s.port,
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Forwarded-For: 127.0.0.1\r\n\r\n`,
    );
    expect(upgrade.status).toBe(403);
    expect(JSON.parse(upgrade.body)).toMatchObject({ error: 'proxy_attribution_required', reason: 'loopback_chain' });
    // Said once per peer and reason, not once per request.
    await s.waitFor('front_door.attribution_refused', () => s.events('front_door.attribution_refused').length >= 3, 5_000);
    expect(s.events('front_door.attribution_refused').map((r) => r['reason'])).toEqual(['loopback_chain', 'no_x_forwarded_for', 'not_an_address']);
    expect((await httpRequest({ port: s.port, path: '/headers', headers: { 'x-forwarded-for': '::1' } })).status).toBe(403);
    expect(s.events('front_door.attribution_refused')).toHaveLength(3);
  });

  it('SUPERVISOR_TRUSTED_PROXIES: its hops are skipped too, and a trusted proxy\'s own request passes as the proxy', async () => {
    const s = await ready({ SUPERVISOR_TRUSTED_PROXIES: '198.51.100.1/32' });
    const chained = JSON.parse((await httpRequest({ port: s.port, path: '/headers', headers: { 'x-forwarded-for': '203.0.113.9, 198.51.100.1' } })).body.toString()) as EchoedHeaders;
    expect(chained.headers['x-forwarded-for']).toBe('203.0.113.9');
    // All hops trusted, the leftmost not loopback: that proxy made the request itself.
    const own = JSON.parse((await httpRequest({ port: s.port, path: '/headers', headers: { 'x-forwarded-for': '198.51.100.1' } })).body.toString()) as EchoedHeaders;
    expect(own.headers['x-forwarded-for']).toBe('198.51.100.1');
  });

  it('SUPERVISOR_LOOPBACK_CLIENTS=remote: a loopback client is a relay\'s client, remote, whatever X-Forwarded-For it sends', async () => {
    const s = await ready({ SUPERVISOR_LOOPBACK_CLIENTS: 'remote' });
    const echoed = JSON.parse((await httpRequest({ port: s.port, path: '/headers' })).body.toString()) as EchoedHeaders;
    expect(echoed.headers['x-forwarded-for']).toBe('192.0.2.1');
    expect(echoed.headers['x-forwarded-proto']).toBe('http');
    // Through ssh -L or socat the client's own header arrives from loopback: it must not pick its address.
    const named = JSON.parse((await httpRequest({ port: s.port, path: '/headers', headers: { 'x-forwarded-for': '10.0.0.5' } })).body.toString()) as EchoedHeaders;
    expect(named.headers['x-forwarded-for']).toBe('192.0.2.1');
  });

  it('SUPERVISOR_LOOPBACK_CLIENTS=remote with 127.0.0.1 in SUPERVISOR_TRUSTED_PROXIES: that proxy names its client', async () => {
    const s = await ready({ SUPERVISOR_LOOPBACK_CLIENTS: 'remote', SUPERVISOR_TRUSTED_PROXIES: '127.0.0.1' });
    const named = JSON.parse((await httpRequest({ port: s.port, path: '/headers', headers: { 'x-forwarded-for': '203.0.113.9' } })).body.toString()) as EchoedHeaders;
    expect(named.headers['x-forwarded-for']).toBe('203.0.113.9');
  });

  it('streams a 10 MB request body to the gateway and its echo back unchanged', async () => {
    const s = await ready();
    const size = 10 * 1024 * 1024;
    const body = generatedBody(size);
    const res = await httpRequest({ port: s.port, method: 'POST', path: '/echo', headers: { 'content-type': 'application/x-test' }, body: body.stream, timeoutMs: 30_000 });
    expect(res.status).toBe(200);
    expect(res.headers['x-echo-method']).toBe('POST');
    expect(res.headers['content-type']).toBe('application/x-test');
    expect(res.body.length).toBe(size);
    expect(res.sha256).toBe(body.digest());
  });

  it('passes a chunked response through complete and a 5 MB fixed-length response with its length', async () => {
    const s = await ready();
    const chunked = await httpRequest({ port: s.port, path: '/chunked?n=40' });
    expect(chunked.status).toBe(200);
    expect(chunked.headers['transfer-encoding']).toBe('chunked');
    expect(chunked.body.toString()).toBe(Array.from({ length: 40 }, (_, i) => `chunk ${i}\n`).join(''));

    const size = 5 * 1024 * 1024;
    const bytes = await httpRequest({ port: s.port, path: `/bytes?n=${size}` });
    expect(bytes.status).toBe(200);
    expect(bytes.headers['content-length']).toBe(String(size));
    expect(bytes.body.length).toBe(size);
    expect(bytes.body.every((byte) => byte === 0x61)).toBe(true);
  });

  it('preserves several Set-Cookie headers as separate headers', async () => {
    const s = await ready();
    const res = await httpRequest({ port: s.port, path: '/cookies' });
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    const raw = res.rawHeaders.filter((_, i) => i % 2 === 0).filter((name) => name.toLowerCase() === 'set-cookie');
    expect(raw).toHaveLength(2);
    // fetch sees them the same way.
    const viaFetch = await fetch(s.url('/cookies'));
    expect(viaFetch.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    await viaFetch.arrayBuffer();
  });

  it('reuses one keep-alive connection for several requests', async () => {
    const s = await ready();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    const results = [];
    for (const path of ['/a', '/headers', '/b', '/chunked?n=3', '/readyz', '/c']) results.push(await httpRequest({ port: s.port, path, agent }));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(new Set(results.map((r) => r.localPort)).size).toBe(1);
    expect(results.map((r) => r.reusedSocket)).toEqual([false, true, true, true, true, true]);
    for (const r of results) expect(r.headers['connection']).toBe('keep-alive');
  });

  it('does not count a client that gives up mid-request as a gateway failure', async () => {
    const s = await ready();
    const gone = http.get({ host: '127.0.0.1', port: s.port, path: '/slow?ms=5000', agent: false });
    gone.on('error', () => undefined);
    expect((await httpRequest({ port: s.port, path: '/headers' })).status).toBe(200);
    gone.destroy();
    // A request that logs a line of its own: the log is ordered, so once that line is out, an
    // upstream_error for the abandoned request would be out too.
    expect((await httpRequest({ port: s.port, path: '/after', headers: { 'x-forwarded-for': '127.0.0.1' } })).status).toBe(403);
    await s.waitFor('front_door.attribution_refused', undefined, 5_000);
    expect(s.events('front_door.upstream_error')).toEqual([]);
  });

  it('answers a forwarded request that takes longer than the upstream socket timeout (4.5 s)', async () => {
    const s = await ready();
    const started = Date.now();
    const res = await httpRequest({ port: s.port, path: '/slow?ms=4500', timeoutMs: 20_000 });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('slow done');
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_400);
  });
});

describe('front door: its own endpoints', () => {
  it('answers GET and HEAD on /healthz and /readyz with JSON that names the state', async () => {
    const s = await ready();
    for (const path of ['/healthz', '/readyz', '/readyz?verbose=1']) {
      const res = await fetch(s.url(path));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toMatchObject({ status: 'ok', state: 'ready', gateway: 'ready', draining: false });
    }
    for (const path of ['/healthz', '/readyz']) {
      const head = await httpRequest({ port: s.port, method: 'HEAD', path });
      expect(head.status).toBe(200);
      expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
      expect(head.body.length).toBe(0);
    }
    // HEAD of a forwarded path has no body either.
    const forwarded = await httpRequest({ port: s.port, method: 'HEAD', path: '/page' });
    expect(forwarded.status).toBe(200);
    expect(forwarded.body.length).toBe(0);
  });

  it('answers 405 with Allow to other methods on /healthz and /readyz', async () => {
    const s = await ready();
    for (const [method, path] of [
      ['POST', '/healthz'],
      ['PUT', '/readyz'],
      ['DELETE', '/healthz'],
    ] as const) {
      const res = await fetch(s.url(path), { method, body: method === 'DELETE' ? null : 'x' });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      expect(await res.json()).toEqual({ error: 'method_not_allowed' });
    }
  });

  it('a head with 1000 header lines or more is refused with 431 (Node 20 would drop the Content-Length past them), never forwarded without its body', async () => {
    const s = await ready();
    /** A POST to /echo whose Content-Length comes after `lines` header lines in all (Host and Connection included). */
    const post = (lines: number, path = '/echo'): string => {
      let head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n`;
      for (let i = 0; i < lines - 3; i++) head += `x-h${i}: 1\r\n`;
      return `${head}Content-Length: 5\r\nConnection: close\r\n\r\nhello`;
    };
    const under = await rawExchange(s.port, post(999));
    expect(under.status).toBe(200);
    expect(under.body).toBe('hello');
    for (const lines of [1000, 1002, 1500]) {
      const res = await rawExchange(s.port, post(lines));
      expect(res.status, String(lines)).toBe(431);
      // Past 1000 lines Node 24 answers 431 itself (the same body, without the count); Node 20 leaves it to admission.
      expect(JSON.parse(res.body), String(lines)).toMatchObject({ error: 'bad_request', message: expect.stringMatching(/^request head too large/) });
      expect(res.serverClosed).toBe(true);
    }
    // The same on the WebSocket path.
    let upgrade = `GET / HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n`;
    for (let i = 0; i < 1000; i++) upgrade += `x-h${i}: 1\r\n`;
    expect((await rawExchange(s.port, `${upgrade}\r\n`)).status).toBe(431);
  });

  it('rejects dot segments in the raw request target with 400 and closes the connection', async () => {
    const s = await ready();
    for (const target of ['/healthz/../x', '/a/../../etc/passwd', '/%2e%2e/x', '/a/%2E%2e', '/./readyz', '/x/..?y=1', 'http://127.0.0.1/x']) {
      const res = await rawExchange(s.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n\r\n`);
      expect(res.status, target).toBe(400);
      expect(JSON.parse(res.body), target).toMatchObject({ error: 'bad_request' });
      expect(res.serverClosed, target).toBe(true);
    }
    // Dots that are not whole segments are ordinary paths.
    for (const target of ['/.well-known/x', '/file.txt', '/a..b/c']) {
      const res = await rawExchange(s.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nConnection: close\r\n\r\n`);
      expect(res.status, target).toBe(200);
      expect(res.body, target).toBe(`fake gateway GET ${target}`);
    }
  });
});
