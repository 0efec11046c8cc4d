import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetns, type Netns } from './netns.js';
import { ROOT, startSupervisor, type RunningSupervisor } from './supervisor.js';

const DEVICE_CLIENT = join(ROOT, 'test', 'helpers', 'device-client.mjs');

export interface RemoteDevices {
  readonly ns: Netns;
  readonly sup: RunningSupervisor;
  /** The test's own directory: the token file (0600) and the device identities. */
  readonly work: string;
  /** The front door as a client in the namespace reaches it. */
  readonly url: string;
  /** Exactly the environment `node dist/cli.js …` needs to reach this supervisor's gateway. */
  readonly cliEnv: Record<string, string | undefined>;
  /** Runs device-client.mjs in the namespace with the identity `work/<identity>`; its JSON report. */
  device(identity: string, extra?: readonly string[]): Record<string, any>;
}

/**
 * The real gateway behind a supervisor, ready, with remote clients in a network namespace of the
 * test's own. The caller stops it: `await sup.kill(); ns.destroy()`.
 */
export async function startRemoteDevices(workPrefix: string, env: Record<string, string> = {}): Promise<RemoteDevices> {
  const ns = createNetns();
  try {
    const work = mkdtempSync(join(tmpdir(), workPrefix));
    const sup = await startSupervisor({ gateway: null, env: { SUPERVISOR_STARTUP_TIMEOUT_MS: '120000', ...env } });
    const url = `ws://${ns.hostAddress}:${sup.port}/`;
    const cliEnv = {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      PORT: String(sup.port),
      SUPERVISOR_GATEWAY_PORT: String(sup.gatewayPort),
      OPENCLAW_STATE_DIR: sup.stateDir,
      OPENCLAW_GATEWAY_TOKEN: sup.token,
    };
    writeFileSync(join(work, 'token'), sup.token, { mode: 0o600 });
    const device = (identity: string, extra: readonly string[] = []): Record<string, any> => {
      const [file, ...args] = ns.exec([process.execPath, DEVICE_CLIENT, url, join(work, 'token'), join(work, identity), ...extra]);
      return JSON.parse(execFileSync(file!, args, { encoding: 'utf8', timeout: 30_000 })) as Record<string, any>;
    };
    try {
      await sup.waitFor('gateway.ready', undefined, 120_000);
    } catch (error) {
      await sup.kill();
      throw error;
    }
    return { ns, sup, work, url, cliEnv, device };
  } catch (error) {
    ns.destroy();
    throw error;
  }
}
