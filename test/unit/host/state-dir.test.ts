import { describe, expect, it } from 'vitest';
import { mountOf, parseMountinfo, stateNotPersistentReason, unwritableStateDirFix, type Mount } from '../../../src/host/state-dir.js';
import { findUser, resolveRunAs, becomeUser, type IdentityCalls } from '../../../src/host/run-as.js';

const MOUNTINFO = [
  '620 540 0:52 / / rw,relatime master:250 - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w',
  '621 620 0:55 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
  '630 620 8:1 /var/lib/containers/storage/volumes/state/_data /home/node/.openclaw rw,relatime - ext4 /dev/sda1 rw',
  '631 620 8:1 /vols/data /data rw,relatime - ext4 /dev/sda1 rw',
  '632 620 8:1 /x /with\\040space rw - ext4 /dev/sda1 rw',
].join('\n');
const mounts = parseMountinfo(MOUNTINFO);

describe('parseMountinfo / mountOf', () => {
  it('reads mount points (octal escapes decoded) and types', () => {
    expect(mounts.map((m) => m.mountPoint)).toEqual(['/', '/proc', '/home/node/.openclaw', '/data', '/with space']);
    expect(mounts[2]!.fsType).toBe('ext4');
  });
  it.each([
    ['/home/node/.openclaw', '/home/node/.openclaw'],
    ['/home/node/.openclaw/agents', '/home/node/.openclaw'],
    ['/home/node/.openclaw-other', '/'],
    ['/data/.openclaw', '/data'],
    ['/database', '/'],
    ['/with space/x', '/with space'],
  ])('%s is on %s', (path, mountPoint) => {
    expect(mountOf(path, mounts)?.mountPoint).toBe(mountPoint);
  });
});

describe('stateNotPersistentReason', () => {
  const none: Mount[] = [];
  it.each([
    ['railway, on the volume', { platform: 'railway', stateDir: '/data/.openclaw', railwayVolume: '/data', mounts: none }, null],
    ['railway, volume path with a trailing slash', { platform: 'railway', stateDir: '/data/.openclaw', railwayVolume: '/data/', mounts: none }, null],
    ['railway, moved off the volume', { platform: 'railway', stateDir: '/tmp/state', railwayVolume: '/data', mounts: none }, "it is not on the service's volume (RAILWAY_VOLUME_MOUNT_PATH=/data)"],
    ['railway, a sibling that only shares the prefix', { platform: 'railway', stateDir: '/database/.openclaw', railwayVolume: '/data', mounts: none }, "it is not on the service's volume (RAILWAY_VOLUME_MOUNT_PATH=/data)"],
    ['railway, no volume', { platform: 'railway', stateDir: '/home/node/.openclaw', railwayVolume: null, mounts: none }, 'no volume is attached to this Railway service'],
    ['docker, named volume', { platform: 'docker', stateDir: '/home/node/.openclaw', railwayVolume: null, mounts }, null],
    ['docker, no volume', { platform: 'docker', stateDir: '/root/.openclaw', railwayVolume: null, mounts }, "it is on the container's own filesystem (overlay), not on a volume"],
    ['kubernetes, no volume', { platform: 'kubernetes', stateDir: '/srv/state', railwayVolume: null, mounts }, "it is on the container's own filesystem (overlay), not on a volume"],
    ['kubernetes, /proc unreadable', { platform: 'kubernetes', stateDir: '/srv/state', railwayVolume: null, mounts: null }, null],
    ['local: never', { platform: 'local', stateDir: '/root/.openclaw', railwayVolume: null, mounts }, null],
  ] as const)('%s', (_name, input, expected) => {
    expect(stateNotPersistentReason(input)).toBe(expected);
  });
});

describe('unwritableStateDirFix', () => {
  const who = { uid: 1000, gid: 1000 };
  it.each([
    ['railway', true, 'set the service variable RAILWAY_RUN_UID=0: the supervisor then starts as root, gives /data/.openclaw to the unprivileged user and runs itself and the gateway as that user (only tini stays root)'],
    ['railway', false, 'set the service variable RAILWAY_RUN_UID=0 and SUPERVISOR_RUN_AS=node: the supervisor then starts as root, gives /data/.openclaw to the unprivileged user and runs itself and the gateway as that user (only tini stays root)'],
    ['kubernetes', true, "set the pod's securityContext.fsGroup to 1000 (the volume then becomes writable for the group), or start the pod as root so that the supervisor prepares the volume and then runs as the unprivileged user"],
    ['docker', true, 'start the container without --user (the image starts as root, gives the volume to node and runs as node), or chown the volume to 1000:1000'],
    ['local', false, 'make it writable for uid 1000 (e.g. sudo chown -R 1000:1000 /data/.openclaw), or set OPENCLAW_STATE_DIR to a directory you can write'],
  ] as const)('%s (SUPERVISOR_RUN_AS set: %s)', (platform, runAsSet, fix) => {
    expect(unwritableStateDirFix(platform, '/data/.openclaw', who, runAsSet)).toBe(fix);
  });
});

const PASSWD = ['root:x:0:0:root:/root:/bin/bash', 'node:x:1000:1000::/home/node:/bin/bash', 'broken:x:abc:1::/x:/bin/sh', 'nohome:x:1001:1001::', 'wheel:x:1002:0::/home/wheel:/bin/sh', ''].join('\n');

describe('findUser / resolveRunAs', () => {
  it.each([
    ['node', { name: 'node', uid: 1000, gid: 1000, home: '/home/node' }],
    ['1000', { name: 'node', uid: 1000, gid: 1000, home: '/home/node' }],
    ['nohome', { name: 'nohome', uid: 1001, gid: 1001, home: '/' }],
    ['broken', null],
    ['nobody', null],
  ])('%s', (wanted, expected) => {
    expect(findUser(PASSWD, wanted)).toEqual(expected);
  });
  it('does nothing unless root with the setting', () => {
    const read = (): string => {
      throw new Error('passwd must not be read');
    };
    expect(resolveRunAs(null, 0, read)).toBeNull();
    expect(resolveRunAs('node', 1000, read)).toBeNull();
    expect(resolveRunAs('node', null, read)).toBeNull();
    expect(resolveRunAs('node', 0, () => PASSWD)).toMatchObject({ uid: 1000 });
  });
  it('refuses an unknown account and root', () => {
    expect(() => resolveRunAs('ghost', 0, () => PASSWD)).toThrow('SUPERVISOR_RUN_AS="ghost" names no account in /etc/passwd');
    expect(() => resolveRunAs('root', 0, () => PASSWD)).toThrow('SUPERVISOR_RUN_AS="root" is root');
    expect(() => resolveRunAs('0', 0, () => PASSWD)).toThrow('is root');
    expect(() => resolveRunAs('wheel', 0, () => PASSWD)).toThrow("has root's group (gid 0)");
  });
});

describe('becomeUser', () => {
  const user = { name: 'node', uid: 1000, gid: 1000, home: '/home/node' };
  function fakeProcess(overrides: Partial<IdentityCalls> = {}): IdentityCalls & { calls: string[] } {
    const state = { uid: 0, gid: 0 };
    const calls: string[] = [];
    return {
      calls,
      initgroups: (name, gid) => void calls.push(`initgroups ${name} ${gid}`),
      setgid: (gid) => {
        calls.push(`setgid ${gid}`);
        state.gid = gid;
      },
      setuid: (uid) => {
        calls.push(`setuid ${uid}`);
        if (state.uid !== 0) throw new Error('EPERM');
        state.uid = uid;
      },
      getuid: () => state.uid,
      geteuid: () => state.uid,
      getgid: () => state.gid,
      ...overrides,
    };
  }
  it('drops groups, then the group, then the user, and checks it cannot come back', () => {
    const proc = fakeProcess();
    becomeUser(user, proc);
    expect(proc.calls).toEqual(['initgroups node 1000', 'setgid 1000', 'setuid 1000', 'setuid 0']);
  });
  it('fails when the switch did not take effect', () => {
    expect(() => becomeUser(user, fakeProcess({ geteuid: () => 0 }))).toThrow('did not take effect');
  });
  it('fails when root could be regained', () => {
    const proc = fakeProcess();
    proc.setuid = () => undefined;
    proc.getuid = () => 1000;
    proc.geteuid = () => 1000;
    proc.getgid = () => 1000;
    expect(() => becomeUser(user, proc)).toThrow('could become root again');
  });
});
