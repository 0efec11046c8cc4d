import { createInterface } from 'node:readline/promises';
import type { Config } from '../config/config.js';
import { UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { controlSocketPath, requestControl } from '../releases/control-socket.js';
import { parseReleasePin } from '../config/release-pin.js';
import { storeDirOf } from '../releases/release-store.js';
import { selfCommand } from '../host/self-command.js';

interface UpdateArgs {
  readonly to: string;
  readonly check: boolean;
  readonly yes: boolean;
}

/** `update [--to VERSION|latest] [--check] [--yes]`; anything else is refused with what it takes. */
export function parseUpdateArgs(args: readonly string[]): UpdateArgs {
  let to = 'latest';
  let check = false;
  let yes = false;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] ?? '';
    if (arg === '--check') check = true;
    else if (arg === '--yes' || arg === '-y') yes = true;
    else if (arg === '--to') to = args[++index] ?? '';
    else if (arg.startsWith('--to=')) to = arg.slice('--to='.length);
    else throw new UsageError(`update takes --to VERSION|latest, --check and --yes (got ${JSON.stringify(arg)})`);
  }
  parseReleasePin(to, '--to');
  return { to, check, yes };
}

/**
 * Asks the supervisor running on this state dir (its control socket) to show its releases
 * (`--check`) or to step to another now: prepared while the gateway serves, then one gateway
 * start of outage; rolled back when the new release does not get ready. Exit 0 when it runs,
 * 1 when it was refused or rolled back.
 */
export async function runUpdate(config: Config, args: readonly string[]): Promise<number> {
  const parsed = parseUpdateArgs(args);
  const path = controlSocketPath(storeDirOf(config.stateDir));
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  try {
    if (parsed.check) {
      say(describeCheck((await requestControl(path, { op: 'check' }, say)) as Record<string, unknown>));
      return EXIT.ok;
    }
    if (!parsed.yes && !(await confirm(`Update the running gateway to openclaw ${parsed.to}? It is backed up first and is away for one gateway start. [y/N] `))) {
      say('not updated (answer y, or add --yes)');
      return EXIT.failed;
    }
    const result = (await requestControl(path, { op: 'update', to: parsed.to }, say)) as { outcome: string; message: string; to?: string; pinned?: { kind: string; version?: string } | null };
    say(result.message);
    // The supervisor's own pin (its environment, not this shell's).
    const pinned = result.pinned?.kind === 'exact' ? result.pinned.version : null;
    if (result.outcome === 'updated' && pinned != null && pinned !== result.to) {
      say(`SUPERVISOR_OPENCLAW_VERSION=${pinned} pins another release: set it to ${result.to} (or unset it), or the next start steps back to ${pinned} (a downgrade its preflight will refuse)`);
    }
    return result.outcome === 'rolled-back' ? EXIT.failed : EXIT.ok;
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') {
      process.stderr.write(
        `openclaw-supervisor: no supervisor is running on ${config.stateDir} (${path} ${code === 'ENOENT' ? 'does not exist' : 'does not answer'}): run this where it runs (docker exec, railway ssh, kubectl exec) with the same state dir, or set SUPERVISOR_OPENCLAW_VERSION=${parsed.to} and start it (${selfCommand()})\n`,
      );
      return EXIT.failed;
    }
    process.stderr.write(`openclaw-supervisor: update failed: ${message}\n`);
    return EXIT.failed;
  }
}

async function confirm(question: string): Promise<boolean> {
  if (process.stdin.isTTY !== true) throw new UsageError('update changes the running gateway: add --yes to confirm (no terminal to ask on)');
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim());
  } finally {
    prompt.close();
  }
}

function describeCheck(check: Record<string, unknown>): string {
  const registry = (check['registry'] ?? {}) as Record<string, unknown>;
  const versions = Array.isArray(registry['versions']) ? (registry['versions'] as string[]) : [];
  const running = typeof check['running'] === 'string' ? check['running'] : null;
  const newer = running === null ? [] : versions.slice(versions.indexOf(running) + 1).filter((version) => !version.includes('-'));
  const pin = check['pinned'] as { kind: string; version?: string } | null;
  return [
    `running:   openclaw ${running ?? '(none)'}${check['runningFrom'] === 'store' ? ' (installed in the state volume)' : check['runningFrom'] === 'image' ? " (the image's own)" : ''}`,
    `pinned:    ${pin === null ? '(none: the newer of the image\'s and the last good one)' : pin.kind === 'latest' ? 'latest' : pin.version} (SUPERVISOR_OPENCLAW_VERSION)`,
    `last good: ${String(check['lastGood'] ?? '(none recorded yet)')}`,
    `image:     ${String(check['image'] ?? '(unknown)')}`,
    typeof registry['error'] === 'string'
      ? `registry:  ${registry['error']}`
      : `registry:  latest ${String(registry['dist-tags.latest'] ?? '?')}${newer.length === 0 ? '; nothing newer than what runs' : `; newer: ${newer.join(', ')}`}`,
  ].join('\n');
}
