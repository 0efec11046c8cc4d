import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpRequest, openWebSocket, tryConnect, type WsProbe } from '../helpers/front-door-clients.js';
import { startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

let sup: RunningSupervisor | undefined;
const sockets: WsProbe[] = [];
afterEach(async () => {
  for (const probe of sockets.splice(0)) probe.ws.terminate();
  await sup?.kill();
  sup = undefined;
});

/** Whether this machine has IPv6 loopback: a tiny server on [::1] and a connection to it. */
async function ipv6LoopbackWorks(): Promise<boolean> {
  const server = net.createServer((socket) => socket.end());
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => resolve(true));
  });
  if (!listening) return false;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const outcome = await tryConnect(port, '::1');
  await new Promise((resolve) => server.close(resolve));
  return outcome === 'connected';
}

interface EchoedHeaders {
  headers: Record<string, string | undefined>;
}

describe('front door: addresses', () => {
  it('listens dual-stack by default (HOST ::): answers on 127.0.0.1 and on [::1]', async () => {
    const ipv6 = await ipv6LoopbackWorks();
    sup = await startSupervisor();
    const s = sup;
    const listening = await s.waitFor('supervisor.listening');
    expect(listening).toMatchObject({ address: '::', port: s.port });
    await s.waitFor('gateway.ready');

    const v4 = await httpRequest({ port: s.port, host: '127.0.0.1', path: '/readyz' });
    expect(v4.status).toBe(200);
    const v4ws = await openWebSocket(`ws://127.0.0.1:${s.port}/`);
    sockets.push(v4ws);
    v4ws.ws.send('v4');
    expect((await v4ws.next()).text).toBe('v4');

    if (ipv6) {
      const v6 = await httpRequest({ port: s.port, host: '::1', path: '/readyz' });
      expect(v6.status).toBe(200);
      expect(JSON.parse(v6.body.toString())).toMatchObject({ state: 'ready' });
      const page = await httpRequest({ port: s.port, host: '::1', path: '/v6?x=1' });
      expect(page.body.toString()).toBe('fake gateway GET /v6?x=1');
      const v6ws = await openWebSocket(`ws://[::1]:${s.port}/`, ['chat.v2']);
      sockets.push(v6ws);
      expect(v6ws.ws.protocol).toBe('chat.v2');
      v6ws.ws.send('v6');
      expect((await v6ws.next()).text).toBe('v6');
    } else {
      // No IPv6 loopback here: the dual-stack listener still serves IPv4, and [::1] cannot be reached at all.
      expect(await tryConnect(s.port, '::1')).not.toBe('connected');
    }
  });

  it('a proxy on this host is one over IPv4 and IPv6 loopback alike: the client it names is sent, alone', async () => {
    const ipv6 = await ipv6LoopbackWorks();
    sup = await startSupervisor({});
    const s = sup;
    await s.waitFor('gateway.ready');
    const proxied = { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' };
    const viaV4 = JSON.parse((await httpRequest({ port: s.port, host: '127.0.0.1', path: '/headers', headers: proxied })).body.toString()) as EchoedHeaders;
    expect(viaV4.headers['x-forwarded-for']).toBe('203.0.113.9');
    expect(viaV4.headers['x-forwarded-proto']).toBe('https');
    if (ipv6) {
      const viaV6 = JSON.parse((await httpRequest({ port: s.port, host: '::1', path: '/headers', headers: { ...proxied, 'x-forwarded-for': '2001:db8::9, ::1' } })).body.toString()) as EchoedHeaders;
      expect(viaV6.headers['x-forwarded-for']).toBe('2001:db8::9');
      expect(viaV6.headers['x-forwarded-proto']).toBe('https');
      const local = JSON.parse((await httpRequest({ port: s.port, host: '::1', path: '/headers' })).body.toString()) as EchoedHeaders;
      expect(local.headers['x-forwarded-for']).toBeUndefined();
    } else {
      expect(await tryConnect(s.port, '::1')).not.toBe('connected');
    }
  });

  it('listens on one family only when HOST names one address', async () => {
    const ipv6 = await ipv6LoopbackWorks();
    sup = await startSupervisor({ env: { HOST: '127.0.0.1' } });
    const s = sup;
    expect(await s.waitFor('supervisor.listening')).toMatchObject({ address: '127.0.0.1' });
    await s.waitFor('gateway.ready');
    expect((await httpRequest({ port: s.port, host: '127.0.0.1', path: '/readyz' })).status).toBe(200);
    expect(await tryConnect(s.port, '::1')).not.toBe('connected');
    await s.kill();

    sup = await startSupervisor({ env: { HOST: '[::1]' } });
    const v6only = sup;
    if (ipv6) {
      expect(await v6only.waitFor('supervisor.listening')).toMatchObject({ address: '::1' });
      await v6only.waitFor('gateway.ready');
      expect((await httpRequest({ port: v6only.port, host: '::1', path: '/readyz' })).status).toBe(200);
      expect(await tryConnect(v6only.port, '127.0.0.1')).toBe('ECONNREFUSED');
    } else {
      // No IPv6 loopback: there is no fallback for an explicit address; the supervisor says so and exits 1.
      const exit = await v6only.exited;
      expect(exit.code).toBe(1);
      expect(v6only.output.join('\n')).toMatch(/cannot listen on ::1/);
    }
  });
});
