import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';

export interface MemoryCgroup {
  readonly dir: string;
  /** For startSupervisor's `wrap`: the shell joins the cgroup before node starts (the supervisor and its gateway are the container). */
  wrap(argv: string[]): string[];
  /** Removes the cgroup once its processes are gone (tried for ~5 s; a leftover is only an empty directory). */
  remove(): Promise<void>;
}

/**
 * A memory cgroup of the test's own with `limitBytes` (v1 or v2, whichever this host has; root),
 * optionally with no swap so that the limit is the kernel's OOM line.
 */
export function createMemoryCgroup(prefix: string, limitBytes: number, options: { noSwap?: boolean } = {}): MemoryCgroup {
  const name = `${prefix}-${process.pid}-${Date.now()}`;
  const v1 = join(CGROUP_ROOT, 'memory');
  let dir: string;
  if (existsSync(join(v1, 'memory.limit_in_bytes'))) {
    dir = join(v1, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'memory.limit_in_bytes'), String(limitBytes));
    if (options.noSwap && existsSync(join(dir, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), String(limitBytes));
  } else {
    if (!existsSync(join(CGROUP_ROOT, 'cgroup.controllers'))) throw new Error('no memory cgroup (v1 or v2) to create: this test needs a writable /sys/fs/cgroup, as root');
    dir = join(CGROUP_ROOT, name);
    if (!readFileSync(join(CGROUP_ROOT, 'cgroup.subtree_control'), 'utf8').includes('memory')) writeFileSync(join(CGROUP_ROOT, 'cgroup.subtree_control'), '+memory');
    mkdirSync(dir);
    writeFileSync(join(dir, 'memory.max'), String(limitBytes));
    if (options.noSwap && existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
  }
  return {
    dir,
    wrap: (argv) => ['/bin/sh', '-c', `echo $$ > ${dir}/cgroup.procs && exec "$@"`, 'sh', ...argv],
    async remove() {
      for (let i = 0; i < 50; i++) {
        try {
          rmdirSync(dir);
          return;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
  };
}
