#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { resolveConfig } from './config/resolve-config.js';
import { StartFailure, SupervisorError, errorLine } from './errors.js';
import { EXIT } from './exit-codes.js';
import { helpText } from './cli/help.js';
import { handOverPid1 } from './host/pid1.js';
import { findAuditCommand, findCliSubcommand, ownSetting } from './cli/subcommands.js';
import { SETTINGS } from './config/settings.js';
import { adoptUserEnv, becomeUser, resolveRunAs, type RunAsUser } from './host/run-as.js';
import { REPAIR_LIMITS, prepareStateDirAsRoot, type StateDirRepair } from './host/state-dir.js';
import { emit } from './log/emit.js';
import { createLogger } from './log/logger.js';

// V8's default GC on purpose: with the 1 MB semi-space and jemalloc of the PID 1 hand-over,
// --no-incremental-marking measured 14-26 % more CPU per request through the real gateway, 2-21 %
// through the fake one, and no memory gain after a burst (BENCHMARKS.md, "The GC flag").

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  // Started as root with SUPERVISOR_RUN_AS (the image): every command runs as that user, so none
  // leaves root-owned files in the state dir. HOME first: the state dir's default lies under it.
  const runAs = resolveRunAs(ownSetting(argv, SETTINGS.runAs), process.getuid?.() ?? null);
  if (runAs !== null) adoptUserEnv(process.env, runAs);
  const audit = findAuditCommand(argv);
  const subcommand = audit === null ? findCliSubcommand(argv) : null;
  if (runAs !== null && (audit !== null || subcommand !== null)) becomeUser(runAs);
  if (audit !== null) return (await import('./cli/audit.js')).runAudit(audit, process.env);
  if (subcommand !== null) return (await import('./cli/cli-subcommand.js')).runCliSubcommand(subcommand, process.env);
  const invocation = resolveConfig(process.env, argv);
  // Only the supervisor itself prepares the state dir (as root, before it drops); the others just drop.
  if (runAs !== null && invocation.command !== 'run') becomeUser(runAs);
  switch (invocation.command) {
    case 'help':
      process.stdout.write(`${helpText(version)}\n`);
      return EXIT.ok;
    case 'version':
      process.stdout.write(`${version}\n`);
      return EXIT.ok;
    case 'healthcheck': {
      const { healthcheck } = await import('./cli/healthcheck.js');
      const result = await healthcheck(invocation.host, invocation.publicPort, invocation.timeoutMs);
      (result.code === 0 ? process.stdout : process.stderr).write(`${result.line}\n`);
      return result.code;
    }
    case 'run': {
      const reaper = handOverPid1();
      const repair = runAs === null ? null : await dropPrivileges(invocation.config.stateDir, runAs);
      const log = await createLogger(invocation.config.logLevel, undefined, { fields: invocation.config.logFields });
      if (repair !== null && runAs !== null) logPrivilegesDropped(log, runAs, invocation.config.stateDir, repair);
      const { runSupervisor } = await import('./cli/run-supervisor.js');
      try {
        return await runSupervisor(invocation.config, log, reaper, version);
      } finally {
        log.flush();
      }
    }
  }
}

/** As root: the state dir made ready for `user` (created, what an earlier root run left given back), then `user` for good. */
async function dropPrivileges(stateDir: string, user: RunAsUser): Promise<StateDirRepair> {
  const repair = await prepareStateDirAsRoot(stateDir, user).catch((error: unknown) => {
    if (error instanceof SupervisorError) throw error;
    const { code, message } = error as NodeJS.ErrnoException;
    throw new StartFailure(`cannot prepare the state dir ${stateDir} for ${user.name} as root (${code ?? message}): check the volume mounted there, or give it to ${user.uid}:${user.gid} yourself`);
  });
  becomeUser(user);
  return repair;
}

function logPrivilegesDropped(log: Awaited<ReturnType<typeof createLogger>>, user: RunAsUser, stateDir: string, repair: StateDirRepair): void {
  const owned = repair.repaired === 0 ? 'nothing to repair' : `${repair.repaired} entr${repair.repaired === 1 ? 'y' : 'ies'} given to ${user.name}`;
  const left = repair.truncated ? `; stopped at ${REPAIR_LIMITS.depth} levels or ${REPAIR_LIMITS.entries} entries, what lies beyond keeps its owner` : '';
  const { created, repaired, otherMounts, skipped, truncated, durationMs } = repair;
  emit(
    log.logger,
    'supervisor.privileges_dropped',
    { user: user.name, uid: user.uid, gid: user.gid, stateDir, created, repaired, otherMounts, skipped, truncated, durationMs },
    `started as root: state dir ${stateDir} ${created ? 'created' : 'checked'} (${owned}${skipped === 0 ? '' : `, ${skipped} hard-linked or changing entries left as they are`}${left}); the supervisor and the gateway run as ${user.name} (${user.uid}:${user.gid}), only tini stays root`,
    truncated ? 'warn' : 'info',
  );
}

main().then(
  (code) => {
    process.exitCode = code;
    // Open handles (the gateway's pipes, timers) must not keep a finished supervisor alive.
    process.exit(code);
  },
  (error: unknown) => {
    // What the supervisor refuses or cannot do: one line, no stack, the code of its kind.
    if (error instanceof SupervisorError) {
      process.stderr.write(`${errorLine(error)}\n`);
      process.exit(error.exitCode);
    }
    process.stderr.write(`openclaw-supervisor: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(EXIT.failed);
  },
);
