import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectAndCheck } from '../helpers/gateway-client.mjs';
import { createNetns, type Netns } from '../helpers/netns.js';
import { ROOT, TEST_TOKEN, startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

const EDGE_REPLAY = join(ROOT, 'test', 'helpers', 'edge-replay.mjs');
const WRONG_TOKEN = 'wrong-token-guess-0000000000000000';
const STRANGER = '203.0.113.7';
const OWNER = '198.51.100.9';
/** Public addresses Railway's edge appends to X-Forwarded-For (its PoP's egress), as reported from real deployments. */
const POP_A = '79.127.151.146';
const POP_B = '152.233.33.161';
/** What RAILWAY_* looks like inside a deployment (docs.railway.com/variables/reference). */
const RAILWAY_ENV = {
  RAILWAY_PROJECT_ID: 'prj-1',
  RAILWAY_ENVIRONMENT_ID: 'env-1',
  RAILWAY_ENVIRONMENT_NAME: 'production',
  RAILWAY_SERVICE_ID: 'svc-1',
  RAILWAY_DEPLOYMENT_ID: 'dep-1',
  RAILWAY_REPLICA_ID: 'rep-1',
  RAILWAY_PUBLIC_DOMAIN: 'claw.up.railway.app',
  RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '30',
  SUPERVISOR_STARTUP_TIMEOUT_MS: '120000',
};

interface Outcome {
  label: string;
  ok: boolean;
  code: string | null;
  retryAfterMs: number | null;
  close: number | null;
}
interface Attempt {
  label: string;
  token: string;
  headers: Record<string, string>;
}

/** The headers Railway's edge sends: X-Forwarded-For "<client>, <PoP egress>" and X-Real-IP <client>, overwritten. */
const railwayEdge = (client: string, pop: string): Record<string, string> => ({
  'x-forwarded-for': `${client}, ${pop}`,
  'x-real-ip': client,
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'claw.up.railway.app',
  'x-railway-edge': 'osl1',
  'x-railway-request-id': randomUUID(),
  'x-request-start': String(Date.now()),
});

const times = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));

/**
 * Railway's edge replayed from a network namespace against the real gateway: who can lock out
 * whom, with the default (no trusted proxies) and with the edge trusted. Two gateway starts.
 */
describe('client attribution behind a platform edge (real gateway, Railway variables)', () => {
  let edge: Netns;
  let neighbour: Netns;
  let sup: RunningSupervisor | undefined;
  const plans = mkdtempSync(join(tmpdir(), 'ocs-edge-plans-'));
  let planCount = 0;

  /** Runs the attempts from inside a namespace, in order; its address is the peer the supervisor sees. */
  async function replay(ns: Netns, attempts: Attempt[]): Promise<Outcome[]> {
    const plan = join(plans, `plan-${++planCount}.json`);
    writeFileSync(plan, JSON.stringify({ url: `ws://${ns.hostAddress}:${sup!.port}/`, attempts }), { mode: 0o600 });
    const argv = ns.exec([process.execPath, EDGE_REPLAY, plan]);
    const { stdout } = await promisify(execFile)(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 120_000 });
    return JSON.parse(stdout) as Outcome[];
  }

  const byLabel = (outcomes: Outcome[], label: string): Outcome => {
    const found = outcomes.find((outcome) => outcome.label === label);
    if (!found) throw new Error(`no outcome ${label} in ${JSON.stringify(outcomes)}`);
    return found;
  };

  beforeAll(() => {
    edge = createNetns();
    neighbour = createNetns();
  });

  afterEach(async () => {
    await sup?.kill();
    sup = undefined;
  });

  afterAll(() => {
    edge?.destroy();
    neighbour?.destroy();
  });

  it('default: one warning says all remote clients share the edge address; a stranger then locks the owner out, never a loopback client', async () => {
    sup = await startSupervisor({ gateway: null, env: RAILWAY_ENV });
    await sup.waitFor('gateway.ready', undefined, 120_000);

    const exposure = sup.events('supervisor.exposure');
    expect(exposure).toHaveLength(1);
    expect(exposure[0]).toMatchObject({
      platform: 'railway',
      public: true,
      clientAddresses: 'shared-edge-address',
      trustedProxies: { frontDoor: [], source: 'none', gateway: ['127.0.0.1', '::1'] },
      auth: { mode: 'token', token: 'env' },
      rateLimit: { source: 'gateway default', maxAttempts: 10, windowMs: 60_000, lockoutMs: 300_000, exemptLoopback: true },
      allowedOrigins: ['https://claw.up.railway.app'],
    });
    expect(JSON.stringify(sup.records)).not.toContain(TEST_TOKEN);
    const shared = sup.events('supervisor.shared_client_address');
    expect(shared).toHaveLength(1);
    expect(shared[0]).toMatchObject({ level: 'warn', setting: 'SUPERVISOR_TRUSTED_PROXIES', findItIn: 'front_door.forwarded_headers_replaced' });

    // A stranger guesses 12 times through the edge, then the owner comes with the right token.
    const outcomes = await replay(edge, [
      ...times(12, (i) => ({ label: `stranger-${i + 1}`, token: WRONG_TOKEN, headers: railwayEdge(STRANGER, POP_A) })),
      { label: 'owner', token: TEST_TOKEN, headers: railwayEdge(OWNER, POP_A) },
    ]);
    expect(byLabel(outcomes, 'stranger-1')).toMatchObject({ ok: false, close: 1008 });
    expect(byLabel(outcomes, 'stranger-1').code).not.toBe('AUTH_RATE_LIMITED');
    expect(byLabel(outcomes, 'stranger-12')).toMatchObject({ ok: false, code: 'AUTH_RATE_LIMITED' });
    // What the warning says: the owner shares the edge's address, so the stranger's lockout is his.
    const owner = byLabel(outcomes, 'owner');
    expect(owner).toMatchObject({ ok: false, code: 'AUTH_RATE_LIMITED' });
    expect(owner.retryAfterMs).toBeGreaterThan(200_000);
    // ...and the value to trust is logged, as the warning says.
    expect(sup.events('front_door.forwarded_headers_replaced').map((record) => record['peer'])).toContain(edge.nsAddress);

    // The CLI inside the container (loopback, right token) is never locked out: not by the
    // stranger's lockout of the edge address, not by its own mistakes.
    const local = `ws://127.0.0.1:${sup.port}/`;
    expect((await connectAndCheck(local, TEST_TOKEN, { health: false })).hello).toMatchObject({ ok: true, type: 'hello-ok' });
    const mistakes = await Promise.all(times(12, () => connectAndCheck(local, WRONG_TOKEN, { health: false })));
    expect(mistakes.every((result) => result.hello?.ok === false)).toBe(true);
    expect(mistakes.map((result) => result.hello?.error?.details?.code)).not.toContain('AUTH_RATE_LIMITED');
    expect((await connectAndCheck(local, TEST_TOKEN, { health: false })).hello).toMatchObject({ ok: true, type: 'hello-ok' });
  }, 240_000);

  it('edge trusted: the stranger is throttled and the owner connects; an untrusted peer can neither move a lockout nor escape its own', async () => {
    sup = await startSupervisor({ gateway: null, env: { ...RAILWAY_ENV, SUPERVISOR_TRUSTED_PROXIES: `${edge.nsAddress}/32,${POP_A}/32` } });
    await sup.waitFor('gateway.ready', undefined, 120_000);
    expect(sup.events('supervisor.exposure')[0]).toMatchObject({
      clientAddresses: 'per-client-through-trusted-proxies',
      // The gateway trusts the front door alone: the front door walks the edge's chain and sends the client.
      trustedProxies: { frontDoor: [`${edge.nsAddress}/32`, `${POP_A}/32`], source: 'SUPERVISOR_TRUSTED_PROXIES', gateway: ['127.0.0.1', '::1'] },
    });
    expect(sup.events('supervisor.shared_client_address')).toHaveLength(0);

    // Trusting the edge's peer address alone is not enough on Railway: its X-Forwarded-For ends
    // with its PoP's public address, which the gateway then takes for the client. Through a PoP
    // whose address is not trusted, the stranger still locks the owner out.
    const untrustedPop = await replay(edge, [
      ...times(12, (i) => ({ label: `stranger-${i + 1}`, token: WRONG_TOKEN, headers: railwayEdge(STRANGER, POP_B) })),
      { label: 'owner', token: TEST_TOKEN, headers: railwayEdge(OWNER, POP_B) },
    ]);
    expect(byLabel(untrustedPop, 'owner')).toMatchObject({ ok: false, code: 'AUTH_RATE_LIMITED' });

    // The whole edge trusted (peer and PoP): every client has its own address.
    const trusted = await replay(edge, [...times(12, (i) => ({ label: `stranger-${i + 1}`, token: WRONG_TOKEN, headers: railwayEdge(STRANGER, POP_A) }))]);
    expect(byLabel(trusted, 'stranger-1').code).not.toBe('AUTH_RATE_LIMITED');
    expect(byLabel(trusted, 'stranger-12')).toMatchObject({ ok: false, code: 'AUTH_RATE_LIMITED' });

    // A peer nobody trusts (another service of the project, over the private network) claims to be
    // the owner: the front door replaces its X-Forwarded-For, so the lockout lands on its own address.
    const spoofer = await replay(neighbour, [
      ...times(12, (i) => ({ label: `spoof-${i + 1}`, token: WRONG_TOKEN, headers: { 'x-forwarded-for': OWNER, 'x-real-ip': OWNER, 'x-railway-edge': 'osl1' } })),
      // ...and naming a fresh address (or loopback) does not get it out of its lockout, even with the right token.
      { label: 'escape-fresh', token: TEST_TOKEN, headers: { 'x-forwarded-for': '192.0.2.77', 'x-real-ip': '192.0.2.77' } },
      { label: 'escape-loopback', token: TEST_TOKEN, headers: { 'x-forwarded-for': '127.0.0.1' } },
    ]);
    expect(byLabel(spoofer, 'spoof-12')).toMatchObject({ ok: false, code: 'AUTH_RATE_LIMITED' });
    expect(byLabel(spoofer, 'escape-fresh')).toMatchObject({ ok: false, code: 'AUTH_RATE_LIMITED' });
    expect(byLabel(spoofer, 'escape-loopback')).toMatchObject({ ok: false, code: 'AUTH_RATE_LIMITED' });
    expect(sup.events('front_door.forwarded_headers_replaced').map((record) => record['peer'])).toEqual([neighbour.nsAddress]);

    // The owner, through the trusted edge, is locked out by none of it.
    const owner = await replay(edge, [{ label: 'owner', token: TEST_TOKEN, headers: railwayEdge(OWNER, POP_A) }]);
    expect(byLabel(owner, 'owner')).toMatchObject({ ok: true, code: null });
  }, 240_000);
});
