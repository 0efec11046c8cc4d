// The three ways to reach the same gateway that the forwarding benchmarks compare: directly, through
// the supervisor's front door, and through nginx. One gateway serves all three, so its own cost is
// the same on every path and the differences are the hops'.
import { readFileSync } from 'node:fs';
import { startNginx } from './nginx.mjs';
import { cpuMs } from './procs.mjs';
import { startSupervisor } from './supervisor.mjs';

export const TARGETS = ['direct', 'supervisor', 'nginx'];

export async function startPaths(nginxPath) {
  // The fake gateway: an HTTP server plus a `ws` echo server, ready at once.
  const sup = await startSupervisor({ env: { FAKE_READY_AFTER_MS: '0' } });
  let nginx;
  try {
    await sup.waitFor('gateway.ready');
    nginx = await startNginx(nginxPath, sup.gatewayPort);
  } catch (error) {
    await sup.stop();
    throw error;
  }
  const ports = { direct: sup.gatewayPort, supervisor: sup.port, nginx: nginx.port };
  // The proxy's own processes: the supervisor alone (not its gateway); nginx's master and worker.
  const proxyPids = { direct: [], supervisor: [sup.pid], nginx: [nginx.proc.pid, ...childrenOf(nginx.proc.pid)] };
  return {
    sup,
    nginx,
    ports,
    /** CPU ms used so far by the proxy of `target` (0 for direct: there is none). */
    proxyCpuMs: (target) => proxyPids[target].reduce((sum, pid) => sum + (cpuMs(pid) ?? 0), 0),
    async stop() {
      await nginx.stop();
      await sup.stop();
    },
  };
}

export function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Round r visits the targets in a rotated order, so no path always runs first (or last). */
export const rotated = (list, r) => list.map((_, i) => list[(i + r) % list.length]);
