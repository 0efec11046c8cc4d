import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface Netns {
  readonly name: string;
  /** Our side of the veth pair (the root namespace). */
  readonly hostAddress: string;
  /** The namespace's side: its own "public" address. */
  readonly nsAddress: string;
  /** argv prefix that runs a command inside the namespace. */
  exec(argv: readonly string[]): string[];
  destroy(): void;
}

const run = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * A network namespace of the test's own, joined to ours by a veth pair with private /30 addresses
 * that exist only between the two: a second host on this machine, nothing else is reachable.
 */
export function createNetns(): Netns {
  const id = randomBytes(3).toString('hex');
  const name = `ocs-${id}`;
  const subnet = `10.${200 + (parseInt(id.slice(0, 2), 16) % 50)}.${parseInt(id.slice(2, 4), 16)}`;
  const hostAddress = `${subnet}.1`;
  const nsAddress = `${subnet}.2`;
  const hostIf = `vh${id}`;
  const nsIf = `vn${id}`;
  const destroy = (): void => {
    try {
      for (const pid of run('netns', 'pids', name).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone
        }
      }
    } catch {
      // namespace never created
    }
    try {
      run('netns', 'del', name);
    } catch {
      // already gone
    }
    try {
      run('link', 'del', hostIf);
    } catch {
      // removed with the namespace
    }
  };
  try {
    run('netns', 'add', name);
    run('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    run('link', 'set', nsIf, 'netns', name);
    run('addr', 'add', `${hostAddress}/30`, 'dev', hostIf);
    run('link', 'set', hostIf, 'up');
    run('netns', 'exec', name, 'ip', 'addr', 'add', `${nsAddress}/30`, 'dev', nsIf);
    run('netns', 'exec', name, 'ip', 'link', 'set', nsIf, 'up');
    run('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  } catch (error) {
    destroy();
    throw new Error(`cannot create a network namespace (root and iproute2 needed): ${(error as Error).message}`);
  }
  return { name, hostAddress, nsAddress, exec: (argv) => ['ip', 'netns', 'exec', name, ...argv], destroy };
}
