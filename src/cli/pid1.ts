import { resolveExecutable } from '../preflight/locate-gateway.js';

const MARKER = 'SUPERVISOR_UNDER_REAPER';

export type ReaperStatus = 'not-pid1' | 'under-reaper' | 'no-tini' | 'no-execve';

/**
 * As PID 1, hand PID 1 to tini and continue as its child: tini reaps every orphan that the
 * gateway's descendants leave behind (Node reaps only the children it spawned itself) and forwards
 * signals to us. execve keeps the PID, so the platform still signals PID 1 (now tini), and our
 * exit code becomes the container's. Returns only when it did not re-execute.
 */
export function handOverPid1(env: NodeJS.ProcessEnv = process.env): ReaperStatus {
  if (env[MARKER] === '1') return 'under-reaper';
  if (process.pid !== 1) return 'not-pid1';
  const tini = resolveExecutable('tini', env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', process.cwd()).found;
  if (tini === null) return 'no-tini';
  const execve = (process as unknown as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (typeof execve !== 'function') return 'no-execve';
  return execve.call(process, tini, [tini, '--', process.execPath, ...process.execArgv, ...process.argv.slice(1)], { ...env, [MARKER]: '1' });
}
