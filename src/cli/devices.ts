import { createInterface } from 'node:readline/promises';
import { runAttached, runCaptured, type CliInvocation } from './openclaw-cli.js';
import { selfCommand } from '../host/self-command.js';
import { EXIT } from '../exit-codes.js';
import { LOOPBACK_IPV4 } from '../host/loopback.js';
import { describeRequest, readPendingList, shownRequestId, type PendingRequest } from '../gateway/pending-pairing.js';
import { escapeUntrusted, terminalSafeJson } from '../log/untrusted.js';

export type { PendingRequest } from '../gateway/pending-pairing.js';
export { describeRequest, formatAge } from '../gateway/pending-pairing.js';

interface DeviceList {
  readonly pending: readonly PendingRequest[];
  readonly paired: readonly unknown[];
}

/**
 * What `devices approve --latest` may do. "Latest" names a request only when there is exactly one:
 * with two pending, the newest is as likely a stranger's (the owner's retries keep their first
 * request time) as the owner's, so the person must pick by the request id their browser shows.
 */
export type LatestDecision = { readonly kind: 'none' } | { readonly kind: 'one'; readonly request: PendingRequest } | { readonly kind: 'many'; readonly pending: readonly PendingRequest[] };

export function decideLatest(pending: readonly PendingRequest[]): LatestDecision {
  if (pending.length === 0) return { kind: 'none' };
  if (pending.length === 1) return { kind: 'one', request: pending[0]! };
  return { kind: 'many', pending };
}

export function parseDeviceList(stdout: string): DeviceList {
  const parsed = JSON.parse(stdout) as { pending?: unknown; paired?: unknown };
  if (!Array.isArray(parsed.pending)) throw new Error('no "pending" list in the output of openclaw devices list --json');
  return { pending: readPendingList(parsed.pending), paired: Array.isArray(parsed.paired) ? (parsed.paired as unknown[]) : [] };
}

/** `openclaw devices list --json` (with the user's own flags, e.g. --timeout), parsed; else its exit code, said on stderr. */
async function listDevices(cli: CliInvocation, flags: readonly string[] = []): Promise<DeviceList | number> {
  const { code, stdout } = await runCaptured(cli, ['devices', 'list', ...flags.filter((flag) => flag !== '--json'), '--json']);
  if (code !== 0) {
    process.stderr.write(`openclaw-supervisor: openclaw devices list failed (exit ${code}); is the supervisor running? (its gateway listens on ${LOOPBACK_IPV4}:${cli.env['OPENCLAW_GATEWAY_PORT']})\n`);
    return code;
  }
  try {
    return parseDeviceList(stdout);
  } catch (error) {
    process.stderr.write(`openclaw-supervisor: cannot read the device list: ${(error as Error).message}\n`);
    return 1;
  }
}

const MATCH_ADVICE =
  'Approve only the request id that your browser shows (the Control UI shows it with the approve command); behind a proxy or platform edge every address is the edge\'s, so the address cannot tell you whose request it is.';

function printPending(list: DeviceList, out: NodeJS.WritableStream): void {
  const now = Date.now();
  if (list.pending.length === 0) {
    out.write(`No pending pairing requests (${list.paired.length} paired device(s)).\n`);
    return;
  }
  out.write(`Pending pairing requests (${list.pending.length}; ${list.paired.length} paired device(s)), newest first:\n`);
  for (const request of [...list.pending].sort((a, b) => (b.ts ?? 0) - (a.ts ?? 0))) {
    out.write(`  request ${shownRequestId(request)}\n      ${describeRequest(request, now)}\n`);
  }
  // The gateway lists when a request was first made; a retry keeps its id and that time (openclaw@2026.9.6 reports no last-seen time).
  out.write(`${MATCH_ADVICE}\nApprove with: ${selfCommand()} devices approve <request id>\n`);
}

/**
 * `devices list --json`: the CLI's JSON, the same values for a program, but every character a
 * terminal would act on or hide written as an escape (terminalSafeJson).
 */
async function printJsonList(cli: CliInvocation, flags: readonly string[]): Promise<number> {
  const { code, stdout } = await runCaptured(cli, ['devices', 'list', ...flags]);
  if (code !== 0) return code;
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch (error) {
    process.stderr.write(`openclaw-supervisor: the output of openclaw devices list --json is not JSON: ${escapeUntrusted((error as Error).message)}\n`);
    return 1;
  }
  process.stdout.write(`${terminalSafeJson(parsed)}\n`);
  return 0;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/**
 * `devices` / `devices list`: the pending requests, their ids first, every client-chosen string
 * escaped. `devices approve ID|--latest`: shows what is approved and approves it; `--latest` only
 * when exactly one request is pending (else it lists them and exits with bad input), and it asks
 * first (or needs `--yes` without a terminal). `devices list --json`: the list as JSON, escaped for a
 * terminal. Other `devices …` commands go to the openclaw CLI unchanged (their output is its own).
 */
export async function runDevices(cli: CliInvocation, args: readonly string[]): Promise<number> {
  const [action = 'list', ...rest] = args;
  if (action === 'list') {
    // Always through our printer: the CLI's own would print client-chosen strings raw.
    if (rest.includes('--json')) return printJsonList(cli, rest);
    const list = await listDevices(cli, rest);
    if (typeof list === 'number') return list;
    printPending(list, process.stdout);
    return 0;
  }
  if (action !== 'approve') return runAttached(cli, ['devices', ...args]);

  const latest = rest.includes('--latest');
  const yes = rest.includes('--yes') || rest.includes('-y');
  const unknown = rest.filter((arg) => arg.startsWith('-') && !['--latest', '--yes', '-y'].includes(arg));
  const ids = rest.filter((arg) => !arg.startsWith('-'));
  if (unknown.length > 0 || ids.length > 1 || (ids.length === 1 && latest) || (ids.length === 0 && !latest)) {
    process.stderr.write(`usage: ${selfCommand()} devices approve <request id> | --latest [--yes]\n`);
    return EXIT.badInput;
  }
  const list = await listDevices(cli);
  if (typeof list === 'number') return list;
  let request: PendingRequest | null;
  if (latest) {
    const decision = decideLatest(list.pending);
    if (decision.kind === 'many') {
      // Refused whatever --yes or a terminal says: "latest" would be a guess between two people.
      process.stderr.write(`Not approved: ${decision.pending.length} requests are pending, so --latest cannot tell which one is yours. Pick it by its request id:\n`);
      printPending(list, process.stderr);
      return EXIT.badInput;
    }
    request = decision.kind === 'one' ? decision.request : null;
  } else {
    request = list.pending.find((pending) => pending.requestId === ids[0]) ?? null;
  }
  if (request === null) {
    process.stderr.write(latest ? 'No pending pairing request to approve.\n' : `No pending pairing request ${escapeUntrusted(ids[0] ?? '', 80)} (approved already, rejected, or expired).\n`);
    printPending(list, process.stderr);
    return 1;
  }
  const shownId = shownRequestId(request);
  const description = describeRequest(request);
  if (latest && !yes) {
    process.stdout.write(`The only pending request: ${shownId}: ${description}\n${MATCH_ADVICE}\n`);
    if (process.stdin.isTTY !== true) {
      process.stderr.write(`Not approved: confirm with --yes, or approve it by id: ${selfCommand()} devices approve ${shownId}\n`);
      return 1;
    }
    if (!(await confirm('Approve this device? [y/N] '))) {
      process.stdout.write('Not approved.\n');
      return 1;
    }
  }
  process.stdout.write(`Approving ${shownId}: ${description}\n`);
  const { code } = await runCaptured(cli, ['devices', 'approve', request.requestId, '--json']);
  process.stdout.write(code === 0 ? `Approved. The device connects by itself at its next retry (the Control UI retries every 5-15 s).\n` : `Not approved: openclaw devices approve exited ${code}.\n`);
  return code;
}
