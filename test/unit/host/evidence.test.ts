import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readMemoryEvidence, readRailwayEvidence, type MemoryEvidence } from '../../../src/host/evidence.js';

let root: string;
let selfCgroup: string;
beforeEach(() => {
  const base = mkdtempSync(join(tmpdir(), 'cgroup-'));
  root = join(base, 'sys-fs-cgroup');
  selfCgroup = join(base, 'proc-self-cgroup');
  mkdirSync(root);
});
afterEach(() => {
  rmSync(dirname(root), { recursive: true, force: true });
});

/** Writes a fake cgroup tree: keys are paths relative to the cgroup root. */
function tree(files: Record<string, string>, self?: string): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  if (self !== undefined) writeFileSync(selfCgroup, self);
}

const V2_EVENTS = 'low 0\nhigh 4\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n';
const V1_UNLIMITED = '9223372036854771712\n';
const V1_OOM_CONTROL = 'oom_kill_disable 0\nunder_oom 1\noom_kill 7\n';

describe('readMemoryEvidence: cgroup v2', () => {
  it.each<[string, Record<string, string>, string | undefined, MemoryEvidence]>([
    [
      'at the root (cgroup namespace)',
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
    [
      'no memory.max or memory.events',
      { 'memory.current': '1234\n' },
      '0::/\n',
      { currentBytes: 1234, maxBytes: null, oom: null, oomKill: null },
    ],
    [
      'memory.events without oom lines',
      { 'memory.current': '1\n', 'memory.max': '2\n', 'memory.events': 'low 0\nhigh 0\n' },
      '0::/\n',
      { currentBytes: 1, maxBytes: 2, oom: null, oomKill: null },
    ],
    [
      "this process's own cgroup before the root",
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
    [
      'the root when its own cgroup is not visible',
      { 'memory.current': '999\n', 'memory.max': '4096\n' },
      '0::/kubepods/pod1/abc\n',
      { currentBytes: 999, maxBytes: 4096, oom: null, oomKill: null },
    ],
    [
      'the root when /proc/self/cgroup is missing',
      { 'memory.current': '42\n', 'memory.max': '84\n' },
      undefined,
      { currentBytes: 42, maxBytes: 84, oom: null, oomKill: null },
    ],
    [
      'v2 before v1 on a hybrid host',
      { 'memory.current': '10\n', 'memory.max': '20\n', 'memory/memory.usage_in_bytes': '30\n', 'memory/memory.limit_in_bytes': '40\n' },
      '4:memory:/\n0::/\n',
      { currentBytes: 10, maxBytes: 20, oom: null, oomKill: null },
    ],
  ])('%s', (_name, files, self, expected) => {
    tree(files, self);
    expect(readMemoryEvidence(root, selfCgroup)).toEqual(expected);
  });
});

describe('readMemoryEvidence: cgroup v1', () => {
  it.each<[string, Record<string, string>, string | undefined, MemoryEvidence]>([
    [
      'at the memory controller root',
      { 'memory/memory.usage_in_bytes': '300\n', 'memory/memory.limit_in_bytes': '1000\n', 'memory/memory.oom_control': V1_OOM_CONTROL },
      '4:memory:/\n',
      { currentBytes: 300, maxBytes: 1000, oom: 1, oomKill: 7 },
    ],
    [
      'unlimited (a huge number) → null',
      { 'memory/memory.usage_in_bytes': '300\n', 'memory/memory.limit_in_bytes': V1_UNLIMITED },
      '4:memory:/\n',
      { currentBytes: 300, maxBytes: null, oom: null, oomKill: null },
    ],
    [
      'a limit just below the unlimited threshold is a limit',
      { 'memory/memory.usage_in_bytes': '1\n', 'memory/memory.limit_in_bytes': `${2 ** 59}\n` },
      '4:memory:/\n',
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
      { currentBytes: 700, maxBytes: 800, oom: 0, oomKill: 0 },
    ],
    [
      'the controller root when its own cgroup is not visible',
      { 'memory/memory.usage_in_bytes': '55\n', 'memory/memory.limit_in_bytes': '66\n' },
      '9:memory:/docker/gone\n',
      { currentBytes: 55, maxBytes: 66, oom: null, oomKill: null },
    ],
    [
      'the controller root when /proc/self/cgroup is missing',
      { 'memory/memory.usage_in_bytes': '55\n' },
      undefined,
      { currentBytes: 55, maxBytes: null, oom: null, oomKill: null },
    ],
  ])('%s', (_name, files, self, expected) => {
    tree(files, self);
    expect(readMemoryEvidence(root, selfCgroup)).toEqual(expected);
  });
});

describe('readMemoryEvidence: nothing usable', () => {
  it.each<[string, Record<string, string>]>([
    ['an empty cgroup mount', {}],
    ['memory.current that is not a number', { 'memory.current': 'garbage\n', 'memory.max': '10\n' }],
    ['only memory.max', { 'memory.max': '10\n' }],
    ['v1 without usage', { 'memory/memory.limit_in_bytes': '10\n' }],
  ])('%s → null', (_name, files) => {
    tree(files, '0::/\n');
    expect(readMemoryEvidence(root, selfCgroup)).toBeNull();
  });

  it('a cgroup root that does not exist → null', () => {
    expect(readMemoryEvidence(join(root, 'absent'), join(root, 'absent-self'))).toBeNull();
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
