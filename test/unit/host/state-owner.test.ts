import { chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findStateOwner, foreignOwnerMessage, wouldLeaveForeignFiles, type StateOwner } from '../../../src/host/state-owner.js';

const owner = (uid: number, notYetCreated = false): StateOwner => ({ path: '/home/node/.openclaw/state', uid, gid: uid, notYetCreated });

describe('wouldLeaveForeignFiles', () => {
  it.each<[string, number, StateOwner, boolean]>([
    ['the owner itself', 1000, owner(1000), false],
    ['root on root\'s state', 0, owner(0), false],
    ['root on node\'s state', 0, owner(1000), true],
    ['node on root\'s state', 1000, owner(0), true],
    ['another user on node\'s state', 1001, owner(1000), true],
    ['root creating the state dir in node\'s home', 0, owner(1000, true), true],
    ['root creating it in a root folder', 0, owner(0, true), false],
    ['a user creating it in a shared folder (/tmp)', 1000, owner(0, true), false],
  ])('%s: %s', (_name, uid, state, expected) => {
    expect(wouldLeaveForeignFiles(uid, state)).toBe(expected);
  });
});

describe('foreignOwnerMessage', () => {
  const command = 'node /app/dist/cli.js audit';
  it('root on node\'s state: names both, why, and runuser / SUPERVISOR_RUN_AS', () => {
    const message = foreignOwnerMessage('audit', 0, 'root', owner(1000), 'node', '/home/node/.openclaw', command);
    expect(message).toContain('audit runs as root (uid 0)');
    expect(message).toContain('/home/node/.openclaw/state in the state dir belongs to node (uid 1000)');
    expect(message).toContain('could no longer open it');
    expect(message).toContain(`runuser -u node -- ${command}`);
    expect(message).toContain('SUPERVISOR_RUN_AS=node');
    expect(message).not.toContain('\n');
  });

  it('an owner without a name: setpriv with its uid and gid', () => {
    expect(foreignOwnerMessage('audit', 0, 'root', { ...owner(4242), gid: 4243 }, null, '/s', command)).toContain(`setpriv --reuid=4242 --regid=4243 --clear-groups -- ${command}`);
  });

  it('not root: sudo -u', () => {
    expect(foreignOwnerMessage('audit', 1001, 'alice', owner(1000), 'node', '/s', command)).toContain(`sudo -u node ${command}`);
  });

  it('a state dir not yet created says where it would be created', () => {
    const message = foreignOwnerMessage('audit', 0, 'root', { path: '/home/node', uid: 1000, gid: 1000, notYetCreated: true }, 'node', '/home/node/.openclaw', command);
    expect(message).toContain('the state dir /home/node/.openclaw does not exist yet and /home/node, where it would be created, belongs to node (uid 1000)');
  });
});

describe('findStateOwner', () => {
  it('the gateway\'s state/ first, then the token, the config, the state dir, the nearest existing parent; never a link', async () => {
    const root = mkdtempSync(join(tmpdir(), 'owner-'));
    try {
      const stateDir = join(root, 'sd');
      expect(await findStateOwner(join(stateDir, 'deeper'))).toMatchObject({ path: root, notYetCreated: true });
      mkdirSync(stateDir);
      chownSync(stateDir, 1002, 1002);
      expect(await findStateOwner(stateDir)).toEqual({ path: stateDir, uid: 1002, gid: 1002, notYetCreated: false });
      symlinkSync('/', join(stateDir, 'state'));
      expect(await findStateOwner(stateDir)).toMatchObject({ path: stateDir, uid: 1002 });
      writeFileSync(join(stateDir, 'openclaw.json'), '{}');
      chownSync(join(stateDir, 'openclaw.json'), 1003, 1003);
      expect(await findStateOwner(stateDir)).toMatchObject({ path: join(stateDir, 'openclaw.json'), uid: 1003 });
      rmSync(join(stateDir, 'state'));
      mkdirSync(join(stateDir, 'state'));
      chownSync(join(stateDir, 'state'), 1000, 1000);
      expect(await findStateOwner(stateDir)).toEqual({ path: join(stateDir, 'state'), uid: 1000, gid: 1000, notYetCreated: false });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
