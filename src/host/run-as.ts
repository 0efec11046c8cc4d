import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

/** The unprivileged account the supervisor and the gateway run as when started as root. */
export interface RunAsUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

/**
 * The account named by SUPERVISOR_RUN_AS (a name or a uid) in an /etc/passwd text. Pure. A uid
 * alone is accepted only when passwd has it: the gateway needs a home directory, and a name to be
 * shown in the record.
 */
export function findUser(passwd: string, wanted: string): RunAsUser | null {
  for (const line of passwd.split('\n')) {
    const [name = '', , uid = '', gid = '', , home = ''] = line.split(':');
    if (name === '' || !/^\d+$/.test(uid) || !/^\d+$/.test(gid)) continue;
    if (name === wanted || uid === wanted) return { name, uid: Number(uid), gid: Number(gid), home: home === '' ? '/' : home };
  }
  return null;
}

/**
 * Who to become: the SUPERVISOR_RUN_AS account when we run as root, else null (not root: nothing
 * to drop, whoever we are is whom the platform chose). Root as the target is refused: the setting
 * exists so that nothing but tini stays root.
 */
export function resolveRunAs(setting: string | null, uid: number | null, readPasswd: () => string = () => readFileSync('/etc/passwd', 'utf8')): RunAsUser | null {
  if (setting === null || uid !== 0) return null;
  const user = findUser(readPasswd(), setting);
  if (user === null) {
    throw new UsageError(`SUPERVISOR_RUN_AS=${JSON.stringify(setting)} names no account in /etc/passwd: name an existing unprivileged user (the image's is node, uid 1000), or unset it to stay root`);
  }
  if (user.uid === 0) throw new UsageError(`SUPERVISOR_RUN_AS=${JSON.stringify(setting)} is root: name an unprivileged user (the image's is node), or unset it`);
  // Group root owns much of a system (gid 0 files are often group-writable): not unprivileged either.
  if (user.gid === 0) throw new UsageError(`SUPERVISOR_RUN_AS=${JSON.stringify(setting)} has root's group (gid 0): name a user whose primary group is its own (the image's node is 1000:1000)`);
  return user;
}

/** The environment a login as `user` would have: the gateway keeps its state and caches under HOME. */
export function adoptUserEnv(env: NodeJS.ProcessEnv, user: RunAsUser): void {
  env['HOME'] = user.home;
  env['USER'] = user.name;
  env['LOGNAME'] = user.name;
}

/** The POSIX identity calls of `process` (present on Linux; injected in tests). */
export interface IdentityCalls {
  initgroups(user: string, extraGroup: number): void;
  setgid(id: number): void;
  setuid(id: number): void;
  getuid(): number;
  geteuid(): number;
  getgid(): number;
}

/**
 * Becomes `user` for good: supplementary groups, then the group, then the user (in that order: once
 * the uid is dropped the others can no longer be changed). The gateway and everything it starts
 * inherit it. A switch that did not stick, or that could be undone, is an error, never a warning.
 */
export function becomeUser(user: RunAsUser, proc: IdentityCalls = process as unknown as IdentityCalls): void {
  proc.initgroups(user.name, user.gid);
  proc.setgid(user.gid);
  proc.setuid(user.uid);
  if (proc.getuid() !== user.uid || proc.geteuid() !== user.uid || proc.getgid() !== user.gid) {
    throw new Error(`switching to ${user.name} (${user.uid}:${user.gid}) did not take effect`);
  }
  let regained = false;
  try {
    proc.setuid(0);
    regained = true;
  } catch {
    // expected: an unprivileged process cannot become root again
  }
  if (regained) throw new Error(`after switching to ${user.name} the process could become root again`);
}
