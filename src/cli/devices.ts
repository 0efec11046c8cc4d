import { createInterface } from 'node:readline/promises';
import { runAttached, runCaptured, type CliInvocation } from './openclaw-cli.js';
import { selfCommand } from './self-command.js';
import { EXIT } from '../exit-codes.js';

/** A pending pairing request as `openclaw devices list --json` prints it (openclaw@2026.9.6). */
export interface PendingRequest {
  readonly requestId: string;
  readonly deviceId?: string;
  readonly platform?: string;
  readonly clientId?: string;
  readonly clientMode?: string;
  readonly role?: string;
  readonly scopes?: readonly string[];
  readonly remoteIp?: string;
  readonly isRepair?: boolean;
  readonly ts?: number;
}

interface DeviceList {
  readonly pending: readonly PendingRequest[];
  readonly paired: readonly unknown[];
}

export function formatAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'unknown age';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

/** One line a person can judge a request by: where it comes from, what it is, what it wants, when. */
export function describeRequest(request: PendingRequest, now = Date.now()): string {
  const client = request.clientId ? `${request.clientId}${request.clientMode ? ` (${request.clientMode})` : ''}` : 'unknown client';
  const wants = `${request.role ?? 'unknown role'}${request.scopes && request.scopes.length > 0 ? ` [${request.scopes.join(', ')}]` : ''}`;
  return [
    `from ${request.remoteIp ?? 'unknown address'}`,
    `platform ${request.platform ?? 'unknown'}`,
    `client ${client}`,
    `wants ${wants}`,
    `device ${request.deviceId ? `${request.deviceId.slice(0, 12)}…` : 'unknown'}`,
    request.isRepair ? 'repair of a paired device' : 'new device',
    request.ts === undefined ? 'unknown age' : `requested ${formatAge(now - request.ts)}`,
  ].join(', ');
}

export function latestRequest(pending: readonly PendingRequest[]): PendingRequest | null {
  return pending.reduce<PendingRequest | null>((latest, request) => (latest === null || (request.ts ?? 0) > (latest.ts ?? 0) ? request : latest), null);
}

export function parseDeviceList(stdout: string): DeviceList {
  const parsed = JSON.parse(stdout) as Partial<DeviceList>;
  if (!Array.isArray(parsed.pending)) throw new Error('no "pending" list in the output of openclaw devices list --json');
  return { pending: parsed.pending, paired: Array.isArray(parsed.paired) ? parsed.paired : [] };
}

async function listDevices(cli: CliInvocation): Promise<DeviceList | number> {
  const { code, stdout } = await runCaptured(cli, ['devices', 'list', '--json']);
  if (code !== 0) {
    process.stderr.write(`openclaw-supervisor: openclaw devices list failed (exit ${code}); is the supervisor running? (its gateway listens on 127.0.0.1:${cli.env['OPENCLAW_GATEWAY_PORT']})\n`);
    return code;
  }
  try {
    return parseDeviceList(stdout);
  } catch (error) {
    process.stderr.write(`openclaw-supervisor: cannot read the device list: ${(error as Error).message}\n`);
    return 1;
  }
}

function printPending(list: DeviceList, out: NodeJS.WritableStream): void {
  const now = Date.now();
  if (list.pending.length === 0) {
    out.write(`No pending pairing requests (${list.paired.length} paired device(s)).\n`);
    return;
  }
  out.write(`Pending pairing requests (${list.pending.length}; ${list.paired.length} paired device(s)):\n`);
  for (const request of [...list.pending].sort((a, b) => (b.ts ?? 0) - (a.ts ?? 0))) {
    out.write(`  ${request.requestId}  ${describeRequest(request, now)}\n`);
  }
  out.write(`Approve one only if you recognise it: ${selfCommand()} devices approve <request id>\n`);
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
 * `devices` / `devices list`: the pending requests, one line each. `devices approve ID|--latest`:
 * shows what is approved (address, platform, age) and approves it; `--latest` asks first (or needs
 * `--yes` without a terminal). Other `devices …` commands go to the openclaw CLI unchanged.
 */
export async function runDevices(cli: CliInvocation, args: readonly string[]): Promise<number> {
  const [action = 'list', ...rest] = args;
  if (action === 'list' && rest.length === 0) {
    const list = await listDevices(cli);
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
  const request = latest ? latestRequest(list.pending) : (list.pending.find((pending) => pending.requestId === ids[0]) ?? null);
  if (request === null) {
    process.stderr.write(latest ? 'No pending pairing request to approve.\n' : `No pending pairing request ${ids[0]} (approved already, rejected, or expired).\n`);
    printPending(list, process.stderr);
    return 1;
  }
  const description = describeRequest(request);
  if (latest && !yes) {
    process.stdout.write(`Latest pending request ${request.requestId}: ${description}\n`);
    if (process.stdin.isTTY !== true) {
      process.stderr.write(`Not approved: confirm with --yes, or approve it by id: ${selfCommand()} devices approve ${request.requestId}\n`);
      return 1;
    }
    if (!(await confirm('Approve this device? [y/N] '))) {
      process.stdout.write('Not approved.\n');
      return 1;
    }
  }
  process.stdout.write(`Approving ${request.requestId}: ${description}\n`);
  const { code } = await runCaptured(cli, ['devices', 'approve', request.requestId, '--json']);
  process.stdout.write(code === 0 ? `Approved. The device connects by itself within a few seconds (the Control UI retries every 1-4 s).\n` : `Not approved: openclaw devices approve exited ${code}.\n`);
  return code;
}
