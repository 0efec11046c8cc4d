import { lstat, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Who the state dir belongs to, and which path says so. */
export interface StateOwner {
  readonly path: string;
  readonly uid: number;
  readonly gid: number;
  /** The state dir does not exist yet: `path` is the folder it would be created in. */
  readonly notYetCreated: boolean;
}

/**
 * What the supervisor and the gateway wrote tell whom they run as (`state/` is the gateway's, the
 * token the supervisor's); a state dir with neither yet is its owner's. Links are not evidence:
 * anyone may point one anywhere.
 */
const EVIDENCE = ['state', 'gateway-token', 'openclaw.json'];

export async function findStateOwner(stateDir: string): Promise<StateOwner | null> {
  for (const name of EVIDENCE) {
    const path = join(stateDir, name);
    try {
      const stats = await lstat(path);
      if (!stats.isSymbolicLink()) return { path, uid: stats.uid, gid: stats.gid, notYetCreated: false };
    } catch {
      // not there: the next one
    }
  }
  for (let path = stateDir, first = true; ; path = dirname(path), first = false) {
    try {
      const stats = await stat(path);
      return { path, uid: stats.uid, gid: stats.gid, notYetCreated: !first };
    } catch {
      if (dirname(path) === path) return null;
    }
  }
}

/**
 * Whether files written now as `uid` would belong to another user than the state's: any other
 * user for an existing state dir; for one not yet created, only root creating it in another
 * user's folder (anyone else creates their own, as the supervisor would).
 */
export function wouldLeaveForeignFiles(uid: number, owner: StateOwner): boolean {
  if (owner.uid === uid) return false;
  return owner.notYetCreated ? uid === 0 : true;
}

/** "root (uid 0)", "node (uid 1000)", "uid 1234" when the account has no name. */
export const describeUser = (uid: number, name: string | null): string => (name === null ? `uid ${uid}` : `${name} (uid ${uid})`);

/**
 * The refusal: who runs, whose the state is, why it matters, and the command to run as the owner.
 * `command` is how to run this same command again (`node /app/dist/cli.js audit`).
 */
export function foreignOwnerMessage(what: string, uid: number, uidName: string | null, owner: StateOwner, ownerName: string | null, stateDir: string, command: string): string {
  const runner = describeUser(uid, uidName);
  const whose = describeUser(owner.uid, ownerName);
  const where = owner.notYetCreated
    ? `the state dir ${stateDir} does not exist yet and ${owner.path}, where it would be created, belongs to ${whose}`
    : `${owner.path} in the state dir belongs to ${whose}, the user the supervisor runs as`;
  const asOwner = uid !== 0
    ? `sudo -u ${ownerName ?? `'#${owner.uid}'`} ${command}`
    : ownerName !== null
      ? `runuser -u ${ownerName} -- ${command} (or SUPERVISOR_RUN_AS=${ownerName}; docker exec -u ${ownerName} …)`
      : `setpriv --reuid=${owner.uid} --regid=${owner.gid} --clear-groups -- ${command}`;
  return `${what} runs as ${runner}, but ${where}: what it writes there would belong to ${runner}, and the supervisor could no longer open it. Run it as the owner: ${asOwner}`;
}
