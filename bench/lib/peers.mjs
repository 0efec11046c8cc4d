// The Node peers of the supervisor, each a process of its own on a kernel-picked loopback port in
// front of a given upstream: http-proxy as the public templates use it, and a bare node:http +
// undici Pool proxy with a raw-socket WebSocket tunnel (the floor of any Node front door). Started with the supervisor's Node by default.
import { join } from 'node:path';
import { freePort } from './ports.mjs';
import { start } from './procs.mjs';
import { SUPERVISOR_NODE } from './supervisor.mjs';

export const PEERS = {
  'http-proxy': join(import.meta.dirname, '..', 'peers', 'http-proxy-server.mjs'),
  bare: join(import.meta.dirname, '..', 'peers', 'bare-proxy.mjs'),
};

/** Starts peer `kind` in front of 127.0.0.1:upstreamPort; resolves once it listens. */
export async function startPeer(kind, upstreamPort, { node = SUPERVISOR_NODE, nodeArgs = [], env = {} } = {}) {
  const port = await freePort();
  const proc = start(node, [...nodeArgs, PEERS[kind], String(port), String(upstreamPort)], { env: { ...process.env, ...env } });
  await proc.waitLine((line) => line === `listening ${port}`, 10_000);
  return {
    kind,
    port,
    pid: proc.pid,
    proc,
    stop: () => proc.stop('SIGTERM', 2_000),
  };
}
