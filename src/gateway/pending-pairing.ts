import { escapeOptional, escapeUntrusted } from '../log/untrusted.js';

/**
 * A pending device pairing request as the gateway lists it (`device.pair.list`, and `openclaw
 * devices list --json`, which prints the same list; openclaw@2026.9.6). Every string but
 * `requestId` (the gateway's own UUID) and `remoteIp` (the address the gateway attributed) was
 * chosen by the client: show them only through escapeUntrusted. The list has one timestamp, `ts`,
 * when the request was first made: a retry by the same device keeps its request id and `ts` (the
 * gateway keeps its refresh time to itself), so no "last seen" can be read from it.
 */
export interface PendingRequest {
  readonly requestId: string;
  readonly deviceId?: string;
  readonly displayName?: string;
  readonly platform?: string;
  readonly deviceFamily?: string;
  readonly clientId?: string;
  readonly clientMode?: string;
  readonly browserOrigin?: string;
  readonly role?: string;
  readonly scopes?: readonly string[];
  readonly remoteIp?: string;
  readonly isRepair?: boolean;
  readonly ts?: number;
}

/** The request ids the gateway makes (UUIDs): only such an id goes into a command we print for copying. */
const REQUEST_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function isPlainRequestId(id: string): boolean {
  return REQUEST_ID.test(id);
}

const STRING_FIELDS = ['deviceId', 'displayName', 'platform', 'deviceFamily', 'clientId', 'clientMode', 'browserOrigin', 'role', 'remoteIp'] as const;

/** The pending list from the gateway's answer, typed field by field; entries without a string requestId are dropped. */
export function readPendingList(value: unknown): PendingRequest[] {
  if (!Array.isArray(value)) throw new Error('no "pending" list in the gateway\'s answer');
  const out: PendingRequest[] = [];
  for (const entry of value as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const raw = entry as Record<string, unknown>;
    if (typeof raw['requestId'] !== 'string' || raw['requestId'] === '') continue;
    const request: Record<string, unknown> = { requestId: raw['requestId'] };
    for (const name of STRING_FIELDS) if (typeof raw[name] === 'string') request[name] = raw[name];
    if (Array.isArray(raw['scopes'])) request['scopes'] = (raw['scopes'] as unknown[]).filter((scope): scope is string => typeof scope === 'string');
    if (typeof raw['isRepair'] === 'boolean') request['isRepair'] = raw['isRepair'];
    if (typeof raw['ts'] === 'number' && Number.isFinite(raw['ts'])) request['ts'] = raw['ts'];
    out.push(request as unknown as PendingRequest);
  }
  return out;
}

export function formatAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'unknown age';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

/** The request id as printed: escaped and bounded like every other field (a gateway id passes unchanged). */
export function shownRequestId(request: PendingRequest): string {
  return escapeUntrusted(request.requestId, 80);
}

/**
 * One line a person can judge a request by, every client-chosen string escaped and bounded:
 * where it comes from, what it says it is, what it wants, when it first asked.
 */
export function describeRequest(request: PendingRequest, now = Date.now()): string {
  const show = (value: string | undefined, fallback: string, max?: number): string => escapeOptional(value, max) ?? fallback;
  const client = request.clientId ? `${show(request.clientId, '', 64)}${request.clientMode ? ` (${show(request.clientMode, '', 32)})` : ''}` : 'unknown client';
  const scopes = request.scopes && request.scopes.length > 0 ? ` [${escapeUntrusted(request.scopes.join(', '), 120)}]` : '';
  return [
    `from ${show(request.remoteIp, 'unknown address', 64)}`,
    `platform ${show(request.platform, 'unknown', 64)}`,
    `client ${client}`,
    ...(request.displayName ? [`name "${show(request.displayName, '', 64)}"`] : []),
    ...(request.browserOrigin ? [`origin ${show(request.browserOrigin, '', 100)}`] : []),
    `wants ${show(request.role, 'unknown role', 32)}${scopes}`,
    `device ${request.deviceId ? escapeUntrusted(request.deviceId, 12) : 'unknown'}`,
    request.isRepair ? 'repair of a paired device' : 'new device',
    request.ts === undefined ? 'first seen: unknown' : `first seen ${formatAge(now - request.ts)}`,
  ].join(', ');
}
