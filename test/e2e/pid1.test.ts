import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { managedNodeBin } from '../../scripts/runtime-path.mjs';
import { descendantsOf, listProcesses, pollUntil } from '../helpers/proc.js';
import { FAKE_GATEWAY, ROOT, startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

// PID 1 of a new PID namespace, as in a container. process.execve (the hand-over to tini) needs
// Node >= 22.15: use the Node 24 that the image ships.
const NODE24 = join(managedNodeBin(ROOT), 'node');
// --kill-child: an aborted test run must not leave the namespace's PID 1 behind.
const asPid1 = (argv: string[]): string[] => ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child', NODE24, ...argv.slice(1)];

/** The namespace's PID 1 as seen from here: the process that unshare forked. */
function pid1Of(sup: RunningSupervisor): number {
  const child = listProcesses().find((p) => p.ppid === sup.process.pid);
  if (!child) throw new Error('unshare has no child');
  return child.pid;
}
const comm = (pid: number): string => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
const zombiesUnder = (pid: number): number[] => descendantsOf(pid).filter((p) => p.state === 'Z').map((p) => p.pid);

describe('as PID 1 in a PID namespace', () => {
  let sup: RunningSupervisor | undefined;
  afterEach(async () => {
    await sup?.kill();
    sup = undefined;
  });

  it('hands PID 1 to tini, which reaps the orphans the gateway leaves', async () => {
    sup = await startSupervisor({ wrap: asPid1, gateway: [NODE24, FAKE_GATEWAY], env: { FAKE_ORPHANS: '6' } });
    await sup.waitFor('gateway.ready');
    const pid1 = pid1Of(sup);
    expect(comm(pid1)).toBe('tini');
    expect(sup.events('supervisor.starting')[0]).toMatchObject({ reaper: 'under-reaper', node: expect.stringMatching(/^v24\./) });
    // The orphans exit 0.2 s after they are made; reaped, none may stay a zombie.
    const clean = await pollUntil(() => zombiesUnder(pid1).length === 0 && descendantsOf(pid1).length <= 3, 3_000);
    expect(clean, `zombies under PID 1: ${zombiesUnder(pid1).join(',')}`).toBe(true);
  });

  it('without the hand-over, the same orphans stay zombies (what the reaper is for)', async () => {
    sup = await startSupervisor({ wrap: asPid1, gateway: [NODE24, FAKE_GATEWAY], env: { FAKE_ORPHANS: '6', SUPERVISOR_UNDER_REAPER: '1' } });
    await sup.waitFor('gateway.ready');
    const pid1 = pid1Of(sup);
    expect(comm(pid1)).not.toBe('tini');
    const zombies = await pollUntil(() => zombiesUnder(pid1).length >= 6, 3_000);
    expect(zombies, `zombies: ${zombiesUnder(pid1).length}`).toBe(true);
  });

  it('kills the whole gateway group on stop, and SIGTERM to PID 1 takes the graceful path with exit 0', async () => {
    sup = await startSupervisor({ wrap: asPid1, gateway: [NODE24, FAKE_GATEWAY], env: { FAKE_GRANDCHILD_IGNORES_TERM: '1' } });
    await sup.waitFor('gateway.ready');
    const pid1 = pid1Of(sup);
    const tree = descendantsOf(pid1);
    // supervisor, gateway, grandchild (which ignores SIGTERM), all inside the namespace
    expect(tree.length).toBeGreaterThanOrEqual(3);
    const started = Date.now();
    process.kill(pid1, 'SIGTERM');
    const exit = await sup.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - started).toBeLessThan(5_000);
    expect(sup.events('supervisor.signal')[0]).toMatchObject({ evidence: { signal: 'SIGTERM' } });
    expect(sup.events('supervisor.drain_finished')).toHaveLength(1);
    // The grandchild outlived the gateway's SIGTERM and was killed with the group before the exit.
    expect(sup.events('gateway.group_leftovers')[0]?.['pids']).toHaveLength(1);
    const survivors = tree.map((p) => p.pid).filter((pid) => listProcesses().some((p) => p.pid === pid && p.state !== 'Z'));
    expect(survivors).toEqual([]);
  });
});
