import { readFileSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { peekToken } from '../gateway-config/token.js';
import { resolveConfig } from '../config/resolve-config.js';
import { UsageError } from '../errors.js';
import { buildChildEnv } from '../gateway/child-env.js';
import { LOOPBACK_PROXIES, prepareGatewayConfig } from '../gateway-config/gateway-config.js';
import { locateRuntime, resolveOpenclaw, withNodeFirst } from '../preflight/locate-gateway.js';
import { readEffectiveConfig } from '../gateway-config/effective-config.js';
import type { AuditCommand } from './subcommands.js';
import { describeExposure, supervisorFindings, type Exposure, type Finding } from '../security/exposure.js';
import { detectPlatform, readHostFacts } from '../host/platform.js';
import { findUser } from '../host/run-as.js';
import { findStateOwner, foreignOwnerMessage, wouldLeaveForeignFiles } from '../host/state-owner.js';
import { diffSnapshots, snapshotTree, type Change } from '../fs/tree-snapshot.js';
import { selfCommand } from '../host/self-command.js';
import { spawnInOwnSession } from './own-session.js';
import { escapeOptional, terminalSafeJson } from '../log/untrusted.js';
import { jsonOf } from '../releases/release-cli.js';
import { TIME_BOUNDS } from '../time-bounds.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Measured on 2 cores: ~20 s wall, ~16 s CPU, ~540 MB RSS; generous for a loaded machine. */
const AUDIT_TIMEOUT_MS = TIME_BOUNDS.auditTimeout.ms;

interface GatewayAudit {
  readonly summary?: Record<string, number>;
  readonly findings?: ReadonlyArray<Finding>;
  readonly [key: string]: unknown;
}

/** The token the gateway would get, read without generating one (an audit must not create secrets). */
async function auditToken(config: Config): Promise<string | null> {
  return (await peekToken(config.token, config.stateDir)).value;
}

function runCaptured(file: string, args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  // Its own session: run from root's terminal, the audit (as the unprivileged user) must not have it as its controlling terminal.
  const child = spawnInOwnSession(file, args, env, ['ignore', 'pipe', 'pipe']);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone already
    }
  }, AUDIT_TIMEOUT_MS);
  return new Promise((resolve) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: error.message, timedOut });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** The audit's JSON report (openclaw prints a banner before it on some paths), or null. */
const parseAudit = (stdout: string): GatewayAudit | null => jsonOf(stdout) as GatewayAudit | null;

const SEVERITIES = ['critical', 'warn', 'info'] as const;

/** Gateway output and state dir names are shown escaped (a terminal would act on \r or ESC[2K in them); this long at most per line. */
const SHOWN_MAX = 1000;
const shown = (value: unknown): string => escapeOptional(value, SHOWN_MAX) ?? '';

/** The findings, worst first; every text escaped (the gateway's come from its output, parts of them from the state dir). */
export function formatFindings(findings: ReadonlyArray<Finding>): string[] {
  const lines: string[] = [];
  for (const severity of SEVERITIES) {
    for (const finding of findings.filter((f) => f.severity === severity)) {
      lines.push(`  ${severity.toUpperCase().padEnd(8)} ${shown(finding.checkId)}: ${shown(finding.title)}`);
      if (finding.detail) lines.push(...String(finding.detail).split('\n').map((line) => `           ${shown(line)}`));
      if (finding.remediation) lines.push(`           fix: ${shown(finding.remediation)}`);
    }
  }
  return lines.length > 0 ? lines : ['  (none)'];
}

/** The account name of `uid` from /etc/passwd, or null. */
function userName(uid: number): string | null {
  try {
    return findUser(readFileSync('/etc/passwd', 'utf8'), String(uid))?.name ?? null;
  } catch {
    return null;
  }
}

/**
 * Run as another user than the state's owner (root in a container whose supervisor runs as node),
 * the audit would leave files there that the supervisor cannot open (it then exits 2). Refused
 * before anything is written.
 */
async function refuseForeignOwner(stateDir: string, json: boolean): Promise<void> {
  const uid = process.getuid?.();
  if (uid === undefined) return;
  const owner = await findStateOwner(stateDir);
  if (owner === null || !wouldLeaveForeignFiles(uid, owner)) return;
  const again = `${selfCommand()} audit${json ? ' --json' : ''}`;
  throw new UsageError(foreignOwnerMessage('audit', uid, userName(uid), owner, userName(owner.uid), stateDir, again));
}

/**
 * Besides the state dir, what the config preparation may write outside it: the real file behind
 * OPENCLAW_CONFIG_PATH (or behind a linked <state dir>/openclaw.json) and its backup.
 */
async function configFilesOutside(stateDir: string, env: Env): Promise<string[]> {
  try {
    const real = await realpath(env['OPENCLAW_CONFIG_PATH'] ?? join(stateDir, 'openclaw.json'));
    return [real, `${real}.supervisor-backup`];
  } catch {
    return [];
  }
}

/** What changed in the state dir; the names are the state dir's (anyone who can write there chose them), shown escaped. */
export function formatChanges(changes: readonly Change[], truncated: boolean): string[] {
  if (changes.length === 0) return [`Nothing was written in the state dir or the config while the audit ran${truncated ? ' (compared: the first entries only)' : ''}.`];
  return [
    `Written in the state dir and the config while the audit ran (by the audit, or by a gateway running meanwhile)${truncated ? ', among the first entries only' : ''}:`,
    ...changes.map((change) => `  ${change.change.padEnd(8)} ${shown(change.path)}${change.detail === undefined ? '' : ` (${shown(change.detail)})`}`),
  ];
}

/** Why the gateway's audit gave no findings: its error message, else its last stderr lines, escaped. */
export function formatFailure(result: { code: number | null; stdout: string; stderr: string; timedOut: boolean }): string {
  const message = (parseAudit(result.stdout)?.['error'] as { message?: unknown } | undefined)?.message;
  const why = message !== undefined ? shown(message) : result.stderr.trim().split('\n').slice(-3).map(shown).join(' | ');
  return `  the gateway's audit failed (exit ${result.code}${result.timedOut ? ', timed out' : ''}): ${why}`;
}

const count = (findings: ReadonlyArray<Finding>): string => SEVERITIES.map((s) => `${findings.filter((f) => f.severity === s).length} ${s}`).join(', ');

/**
 * `openclaw-supervisor audit`: the gateway's own `openclaw security audit` against the setup the
 * supervisor runs (same Node 24, state dir, prepared config, include roots and token), plus the
 * supervisor's view of what that audit cannot see. Exit 1 when anything is critical.
 */
export async function runAudit(command: AuditCommand, env: Env, out: (text: string) => void = (text) => void process.stdout.write(text)): Promise<number> {
  const invocation = resolveConfig(env, command.ownArgs);
  if (invocation.command !== 'run') throw new UsageError(`"${invocation.command}" cannot be combined with audit`);
  const { config } = invocation;
  const runtime = locateRuntime();
  const path = withNodeFirst(runtime.nodeBinDir, env['PATH']);
  const file = resolveOpenclaw(runtime.openclawBinary, path, process.cwd());

  await refuseForeignOwner(config.stateDir, command.json);
  // What the audit changes is measured, not promised: the preparation below, and the gateway's own
  // audit, which opens its state database (creating state/openclaw.sqlite in a fresh state dir).
  const watched = { trees: [config.stateDir], files: await configFilesOutside(config.stateDir, env) };
  const before = await snapshotTree(watched.trees, watched.files);

  // The same preparation as at start (idempotent: "unchanged" once the supervisor has run).
  const prepared = await prepareGatewayConfig(config.stateDir, env['OPENCLAW_CONFIG_PATH'] ?? null, {
    trustedProxies: LOOPBACK_PROXIES,
    allowedOrigins: config.allowedOrigins,
  });
  const token = await auditToken(config);
  const childEnv = buildChildEnv({
    parentEnv: env,
    token: token ?? '',
    stateDir: config.stateDir,
    configPath: prepared.configPath,
    includeRoots: prepared.includeRoots,
    nodeBinDir: runtime.nodeBinDir,
  });
  if (token === null) delete childEnv['OPENCLAW_GATEWAY_TOKEN'];
  delete childEnv['OPENCLAW_SUPERVISOR_MODE'];
  childEnv['OPENCLAW_GATEWAY_PORT'] = String(config.gatewayPort);

  const startedAt = Date.now();
  const result = await runCaptured(file, ['security', 'audit', '--json'], childEnv);
  const durationMs = Date.now() - startedAt;
  const gateway = parseAudit(result.stdout);
  const after = await snapshotTree(watched.trees, watched.files);
  const changes = diffSnapshots(before, after);
  const changesTruncated = before.truncated || after.truncated;

  const effective = await readEffectiveConfig(prepared.configPath);
  const exposure: Exposure = describeExposure({
    platform: detectPlatform(env, readHostFacts()),
    host: config.host,
    port: config.publicPort,
    trustedProxies: config.trustedProxies,
    loopbackClients: config.loopbackClients,
    tokenOrigin: token === null ? 'none yet (the supervisor generates one at its first start)' : config.token.kind === 'generate' ? 'stored' : config.token.kind,
    effectiveConfig: effective.config,
    configError: effective.error,
  });
  const own = supervisorFindings(exposure);
  const gatewayFindings = gateway?.findings ?? [];
  const failed = gateway === null || result.code !== 0 || result.timedOut;
  const critical = [...gatewayFindings, ...own].some((finding) => finding.severity === 'critical');

  if (command.json) {
    // The same values for a program; no character a terminal acts on or hides (a state dir name, the gateway's texts).
    out(`${terminalSafeJson({ gateway, gatewayExitCode: result.code, durationMs, config: { path: prepared.configPath, mode: prepared.mode }, supervisor: { exposure, findings: own }, changes, changesTruncated })}\n`);
  } else {
    const lines = [
      `openclaw security audit on ${shown(prepared.configPath)} (config ${prepared.mode}), state dir ${shown(config.stateDir)}: ${(durationMs / 1000).toFixed(1)} s`,
      ...(failed
        ? [formatFailure(result)]
        : formatFindings(gatewayFindings)),
      '',
      'The supervisor\'s view (what the gateway\'s audit cannot see: the front door makes a loopback gateway public):',
      ...formatFindings(own),
      '',
      ...formatChanges(changes, changesTruncated),
      '',
      `Summary: gateway ${failed ? 'audit failed' : count(gatewayFindings)}; supervisor ${count(own)}.`,
    ];
    out(`${lines.join('\n')}\n`);
  }
  return failed || critical ? 1 : 0;
}
