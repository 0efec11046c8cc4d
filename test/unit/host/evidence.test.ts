import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ownMemoryCgroup, readMemoryEvidence, readRailwayEvidence, type MemoryEvidence } from '../../../src/host/evidence.js';

let root: string;
let selfCgroup: string;
let mountinfo: string;
beforeEach(() => {
  const base = mkdtempSync(join(tmpdir(), 'cgroup-'));
  root = join(base, 'sys-fs-cgroup');
  selfCgroup = join(base, 'proc-self-cgroup');
  mountinfo = join(base, 'proc-self-mountinfo');
  mkdirSync(root);
});
afterEach(() => {
  rmSync(dirname(root), { recursive: true, force: true });
});

/** mountinfo lines: a v2 mount at `root` (pure v2 host) or v1's memory controller at `root/memory` (mount root `v1Root`). */
const V2_MOUNT = (point: string): string => `30 23 0:26 / ${point} rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n`;
const V1_MOUNT = (point: string, mountRoot = '/'): string => `35 31 0:32 ${mountRoot} ${point}/memory rw,relatime - cgroup cgroup rw,memory\n`;

/** Writes a fake cgroup tree (keys are paths relative to the fake /sys/fs/cgroup), /proc/self/cgroup and mountinfo. */
function tree(files: Record<string, string>, self: string | undefined, mounts: string): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  if (self !== undefined) writeFileSync(selfCgroup, self);
  writeFileSync(mountinfo, mounts);
}

const V2_EVENTS = 'low 0\nhigh 4\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n';
const V1_UNLIMITED = '9223372036854771712\n';
const V1_OOM_CONTROL = 'oom_kill_disable 0\nunder_oom 1\noom_kill 7\n';

describe('ownMemoryCgroup: this process\'s own cgroup, never one that merely contains it', () => {
  const HYBRID =
    '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n' +
    '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n' +
    '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n' +
    '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n';
  const HYBRID_SELF = '9:name=systemd:/\n4:memory:/process_api/4fe7\n3:cpuset:/\n0::/\n';
  it.each<[string, string, string, { v2: string | null; v1: string | null }]>([
    ['v2 in a cgroup namespace (Docker, Kubernetes): the mount root is its own', '0::/\n', V2_MOUNT('/sys/fs/cgroup'), { v2: '/sys/fs/cgroup', v1: null }],
    ['v2 on a host, a service cgroup', '0::/system.slice/app.service\n', V2_MOUNT('/sys/fs/cgroup'), { v2: '/sys/fs/cgroup/system.slice/app.service', v1: null }],
    ['v2 mounted under a bind of a subtree that holds it', '0::/kubepods/pod1/abc\n', '30 23 0:26 /kubepods /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n', { v2: '/sys/fs/cgroup/pod1/abc', v1: null }],
    ['v2 mount that does not show its own cgroup (a sibling subtree)', '0::/kubepods/pod1/abc\n', '30 23 0:26 /other /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n', { v2: null, v1: null }],
    ['a prefix of a name is not a parent', '0::/kubepods-burstable/x\n', '30 23 0:26 /kubepods /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n', { v2: null, v1: null }],
    ['v1 hybrid host (this sandbox): memory under the controller mount', HYBRID_SELF, HYBRID, { v2: '/sys/fs/cgroup/unified', v1: '/sys/fs/cgroup/memory/process_api/4fe7' }],
    ['v1 Docker: its own cgroup bind-mounted as the mount root', '9:blkio,memory:/docker/abc\n0::/\n', V1_MOUNT('/sys/fs/cgroup', '/docker/abc'), { v2: null, v1: '/sys/fs/cgroup/memory' }],
    ['v1 root cgroup: the whole host, none', '4:memory:/\n', V1_MOUNT('/sys/fs/cgroup'), { v2: null, v1: null }],
    ['no cgroup mounted', '0::/\n4:memory:/x\n', '22 1 8:1 / / rw - ext4 /dev/sda1 rw\n', { v2: null, v1: null }],
    ['no /proc/self/cgroup', '', V2_MOUNT('/sys/fs/cgroup'), { v2: null, v1: null }],
    ['mount points with escaped spaces', '0::/a\n', V2_MOUNT('/mnt/my\\040cgroup'), { v2: '/mnt/my cgroup/a', v1: null }],
  ])('%s', (_name, self, mounts, expected) => {
    expect(ownMemoryCgroup(self, mounts)).toEqual(expected);
  });
});

describe('readMemoryEvidence: cgroup v2', () => {
  it.each<[string, Record<string, string>, string | undefined, MemoryEvidence | null]>([
    [
      'at the root of a cgroup namespace',
      { 'memory.current': '536870912\n', 'memory.max': '1073741824\n', 'memory.events': V2_EVENTS },
      '0::/\n',
      { currentBytes: 536_870_912, maxBytes: 1_073_741_824, oom: 3, oomKill: 2 },
    ],
    [
      'no limit ("max") → null',
      { 'memory.current': '1234\n', 'memory.max': 'max\n', 'memory.events': V2_EVENTS },
      '0::/\n',
      { currentBytes: 1234, maxBytes: null, oom: 3, oomKill: 2 },
    ],
    ['no memory.max or memory.events', { 'memory.current': '1234\n' }, '0::/\n', { currentBytes: 1234, maxBytes: null, oom: null, oomKill: null }],
    ['memory.events without oom lines', { 'memory.current': '1\n', 'memory.max': '2\n', 'memory.events': 'low 0\nhigh 0\n' }, '0::/\n', { currentBytes: 1, maxBytes: 2, oom: null, oomKill: null }],
    [
      "this process's own cgroup, not the root's",
      {
        'memory.current': '999\n',
        'memory.max': 'max\n',
        'system.slice/app.service/memory.current': '100\n',
        'system.slice/app.service/memory.max': '200\n',
        'system.slice/app.service/memory.events': 'oom 0\noom_kill 1\n',
      },
      '0::/system.slice/app.service\n',
      { currentBytes: 100, maxBytes: 200, oom: 0, oomKill: 1 },
    ],
    // The report of issue 22: the root's 3 GB were the whole host's.
    ['none when its own cgroup is not visible (never the root instead)', { 'memory.current': '3077967872\n', 'memory.max': '4096\n' }, '0::/kubepods/pod1/abc\n', null],
    ['none when /proc/self/cgroup is missing', { 'memory.current': '42\n', 'memory.max': '84\n' }, undefined, null],
    ['the host root: no memory.current there', { 'memory.stat': 'anon 1\n' }, '0::/\n', null],
  ])('%s', (_name, files, self, expected) => {
    tree(files, self, V2_MOUNT(root));
    expect(readMemoryEvidence(selfCgroup, mountinfo)).toEqual(expected);
  });

  it('v2 before v1 on a hybrid host', () => {
    tree({ 'unified/memory.current': '10\n', 'unified/memory.max': '20\n', 'memory/a/memory.usage_in_bytes': '30\n', 'memory/a/memory.limit_in_bytes': '40\n' }, '4:memory:/a\n0::/\n', V2_MOUNT(join(root, 'unified')) + V1_MOUNT(root));
    expect(readMemoryEvidence(selfCgroup, mountinfo)).toEqual({ currentBytes: 10, maxBytes: 20, oom: null, oomKill: null });
  });
});

describe('readMemoryEvidence: cgroup v1', () => {
  it.each<[string, Record<string, string>, string | undefined, string, MemoryEvidence | null]>([
    [
      'its own cgroup bind-mounted as the controller mount (Docker on v1)',
      { 'memory/memory.usage_in_bytes': '300\n', 'memory/memory.limit_in_bytes': '1000\n', 'memory/memory.oom_control': V1_OOM_CONTROL },
      '4:memory:/docker/abc\n',
      '/docker/abc',
      { currentBytes: 300, maxBytes: 1000, oom: 1, oomKill: 7 },
    ],
    ['unlimited (a huge number) → null', { 'memory/memory.usage_in_bytes': '300\n', 'memory/memory.limit_in_bytes': V1_UNLIMITED }, '4:memory:/docker/abc\n', '/docker/abc', { currentBytes: 300, maxBytes: null, oom: null, oomKill: null }],
    [
      'a limit just below the unlimited threshold is a limit',
      { 'memory/memory.usage_in_bytes': '1\n', 'memory/memory.limit_in_bytes': `${2 ** 59}\n` },
      '4:memory:/docker/abc\n',
      '/docker/abc',
      { currentBytes: 1, maxBytes: 2 ** 59, oom: null, oomKill: null },
    ],
    [
      "this process's memory cgroup, with controllers listed together",
      {
        'memory/memory.usage_in_bytes': '1\n',
        'memory/docker/abc/memory.usage_in_bytes': '700\n',
        'memory/docker/abc/memory.limit_in_bytes': '800\n',
        'memory/docker/abc/memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
      },
      '12:cpu,cpuacct:/docker/abc\n9:blkio,memory:/docker/abc\n0::/\n',
      '/',
      { currentBytes: 700, maxBytes: 800, oom: 0, oomKill: 0 },
    ],
    ['the root cgroup counts the whole host: none', { 'memory/memory.usage_in_bytes': '6203748352\n', 'memory/memory.limit_in_bytes': V1_UNLIMITED }, '4:memory:/\n', '/', null],
    ['none when its own cgroup is not visible (never the controller root instead)', { 'memory/memory.usage_in_bytes': '55\n', 'memory/memory.limit_in_bytes': '66\n' }, '9:memory:/docker/gone\n', '/', null],
    ['none when /proc/self/cgroup is missing', { 'memory/memory.usage_in_bytes': '55\n' }, undefined, '/', null],
  ])('%s', (_name, files, self, mountRoot, expected) => {
    tree(files, self, V1_MOUNT(root, mountRoot));
    expect(readMemoryEvidence(selfCgroup, mountinfo)).toEqual(expected);
  });
});

describe('readMemoryEvidence: nothing usable', () => {
  it.each<[string, Record<string, string>]>([
    ['an empty cgroup mount', {}],
    ['memory.current that is not a number', { 'memory.current': 'garbage\n', 'memory.max': '10\n' }],
    ['only memory.max', { 'memory.max': '10\n' }],
  ])('%s → null', (_name, files) => {
    tree(files, '0::/\n', V2_MOUNT(root));
    expect(readMemoryEvidence(selfCgroup, mountinfo)).toBeNull();
  });

  it('v1 without usage → null', () => {
    tree({ 'memory/memory.limit_in_bytes': '10\n' }, '4:memory:/docker/abc\n', V1_MOUNT(root, '/docker/abc'));
    expect(readMemoryEvidence(selfCgroup, mountinfo)).toBeNull();
  });

  it('no /proc files at all → null', () => {
    expect(readMemoryEvidence(join(root, 'absent-self'), join(root, 'absent-mountinfo'))).toBeNull();
  });
});

describe('readRailwayEvidence', () => {
  it.each<[string, Record<string, string | undefined>, number | null, ReturnType<typeof readRailwayEvidence>]>([
    ['not on Railway', { HOME: '/root', RAILWAY_PUBLIC_DOMAIN: 'x.up.railway.app' }, null, null],
    ['undefined values are absent', { RAILWAY_DEPLOYMENT_ID: undefined }, null, null],
    ['all three', { RAILWAY_DEPLOYMENT_ID: 'dep', RAILWAY_REPLICA_ID: 'rep' }, 30, { deploymentId: 'dep', replicaId: 'rep', drainingSeconds: 30 }],
    ['deployment only', { RAILWAY_DEPLOYMENT_ID: 'dep' }, null, { deploymentId: 'dep', replicaId: null, drainingSeconds: null }],
    ['replica only', { RAILWAY_REPLICA_ID: 'rep' }, null, { deploymentId: null, replicaId: 'rep', drainingSeconds: null }],
    ['environment only', { RAILWAY_ENVIRONMENT_NAME: 'production' }, null, { deploymentId: null, replicaId: null, drainingSeconds: null }],
    ['draining alone is a setting, not Railway', { RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '0' }, 0, null],
    ['draining 0 on Railway', { RAILWAY_DEPLOYMENT_ID: 'dep' }, 0, { deploymentId: 'dep', replicaId: null, drainingSeconds: 0 }],
  ])('%s', (_name, env, drainingSeconds, expected) => {
    expect(readRailwayEvidence(env, drainingSeconds)).toEqual(expected);
  });
});
