import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPAIR_LIMITS, prepareStateDirAsRoot } from '../../src/host/state-dir.js';

// The root walk that gives the state dir to the run-as user, against what that user (the
// gateway's agents run as it) can plant there. `nobody` stands in for the image's `node`.
const NOBODY = { name: 'nobody', uid: 65_534, gid: 65_534, home: '/nonexistent' };
const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

const dirs: string[] = [];
function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ocs-repair-'));
  chmodSync(dir, 0o755);
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  // GNU rm walks by descriptor: it removes trees deeper than PATH_MAX, which rmSync cannot.
  for (const dir of dirs.splice(0)) execFileSync('rm', ['-rf', dir]);
});

describe('prepareStateDirAsRoot against a hostile state dir', () => {
  it('does not hand over a file from outside that the user hard-linked in', async () => {
    const dir = workDir();
    const victim = join(dir, 'root-owned');
    writeFileSync(victim, 'root\n');
    chmodSync(victim, 0o666); // protected_hardlinks lets the user link only what it may read and write
    const state = join(dir, 'state');
    mkdirSync(state, { mode: 0o700 });
    chownSync(state, NOBODY.uid, NOBODY.gid);
    execFileSync(asNobody[0]!, [...asNobody.slice(1), 'ln', victim, join(state, 'innocent')]);
    const repair = await prepareStateDirAsRoot(state, NOBODY);
    expect(statSync(victim).uid).toBe(0);
    expect(repair).toMatchObject({ skipped: 1, repaired: 0, truncated: false });
  });

  it('survives a tree deeper than PATH_MAX: bounded, the start goes on', async () => {
    const state = join(workDir(), 'state');
    mkdirSync(state, { mode: 0o700 });
    execFileSync('bash', ['-c', `cd '${state}' && for i in $(seq 1 1100); do mkdir dddd && cd dddd || exit 1; done`]);
    const repair = await prepareStateDirAsRoot(state, NOBODY);
    expect(repair.truncated).toBe(true);
    // Everything within the bound is the user's.
    expect(lstatSync(join(state, 'dddd', 'dddd')).uid).toBe(NOBODY.uid);
    expect(REPAIR_LIMITS.depth).toBeLessThan(1100);
  });

  it('never follows a directory swapped for a link mid-walk out of the state dir (bounded race)', async () => {
    const dir = workDir();
    const victimDir = join(dir, 'victim');
    mkdirSync(victimDir, { mode: 0o755 });
    const victim = join(victimDir, 'root-file');
    writeFileSync(victim, 'root\n', { mode: 0o644 });
    const state = join(dir, 'state');
    mkdirSync(join(state, 'a.dir'), { recursive: true, mode: 0o700 });
    writeFileSync(join(state, 'a.dir', 'f'), 'x');
    symlinkSync(victimDir, join(state, 'a.sym'));
    for (const path of [state, join(state, 'a.dir'), join(state, 'a.dir', 'f')]) chownSync(path, NOBODY.uid, NOBODY.gid);
    lchownSync(join(state, 'a.sym'), NOBODY.uid, NOBODY.gid);
    const swapper = spawn(asNobody[0]!, [
      ...asNobody.slice(1),
      process.execPath,
      '-e',
      `const fs = require('fs'); process.chdir(${JSON.stringify(state)}); const end = Date.now() + 6000;
       while (Date.now() < end) for (const [a, b] of [['a.dir','a'],['a','a.dir'],['a.sym','a'],['a','a.sym']]) { try { fs.renameSync(a, b); } catch {} }`,
    ]);
    try {
      // Before the descriptor walk this chowned the victim within ~500 walks (~8 s on 2 busy cores).
      const until = Date.now() + 5000;
      let walks = 0;
      while (Date.now() < until && walks < 3000 && statSync(victim).uid === 0) {
        walks++;
        await prepareStateDirAsRoot(state, NOBODY);
      }
      expect(walks).toBeGreaterThan(50);
      expect(statSync(victim).uid).toBe(0);
      expect(statSync(victimDir).uid).toBe(0);
    } finally {
      swapper.kill('SIGKILL');
    }
  });

  it('refuses a state dir that is a link (the user could point it at /), and one under a directory of the user', async () => {
    const dir = workDir();
    const outside = join(dir, 'outside');
    mkdirSync(outside, { mode: 0o755 });
    writeFileSync(join(outside, 'root-file'), 'root\n');
    const home = join(dir, 'home');
    mkdirSync(home, { mode: 0o755 });
    chownSync(home, NOBODY.uid, NOBODY.gid);
    // As the user would: its state dir moved aside and replaced by a link.
    symlinkSync(outside, join(home, '.openclaw'));
    await expect(prepareStateDirAsRoot(join(home, '.openclaw'), NOBODY)).rejects.toThrow('is a symbolic link: started as root, the supervisor does not follow it');
    expect(statSync(join(outside, 'root-file')).uid).toBe(0);
    expect(statSync(outside).uid).toBe(0);

    mkdirSync(join(home, 'nested'), { mode: 0o755 });
    chownSync(join(home, 'nested'), NOBODY.uid, NOBODY.gid);
    await expect(prepareStateDirAsRoot(join(home, 'nested', 'state'), NOBODY)).rejects.toThrow(`lies under ${home}, which belongs to nobody`);
    // Directly in the user's home is the image's layout (/home/node/.openclaw): prepared.
    expect((await prepareStateDirAsRoot(join(home, 'state'), NOBODY)).created).toBe(true);
  });
});
