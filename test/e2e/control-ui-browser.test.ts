import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, type Netns } from '../helpers/netns.js';
import { startSupervisor, type LogRecord, type RunningSupervisor } from '../helpers/supervisor.js';

/**
 * Issue 22, as a person meets the Control UI: the real supervisor and gateway on a first start (a
 * new state dir, no OPENCLAW_GATEWAY_TOKEN: the token is generated), and headless Chromium (Debian's,
 * driven by playwright-core) doing only what the screen and the UI say. Locally: open the URL of
 * the ready line, run the token command it gives (in a terminal: it refuses a pipe), paste the token
 * where the UI asks for it, Connect. Remotely (a browser in a network namespace of the test's own,
 * plain http from a private address): the same, then the UI asks for an approval, the supervisor's
 * gateway.pairing_required record gives the command, and once it ran the page connects by itself.
 * Each wait is bounded (60 s at most), the whole file to 4 min (start 70 s, tests 70 and 80 s,
 * cleanup 20 s); the browsers reach only loopback and the namespace's link.
 */
const CHROMIUM = '/usr/bin/chromium';
const WAIT_MS = 60_000;
/** Chromium's flags (tests run as root: no sandbox); no host but `allowed` resolves, so the browser reaches nothing else. */
const browserArgs = (...allowed: string[]): string[] => ['--no-sandbox', `--host-resolver-rules=MAP * ~NOTFOUND, ${allowed.map((host) => `EXCLUDE ${host}`).join(', ')}`];

/** Runs `command` with `sh -c` and exactly `env`, in a terminal when `tty` (util-linux `script`); its output. */
function runCommand(command: string, env: Record<string, string>, { tty = false } = {}): Promise<{ code: number; output: string }> {
  const [file, args] = tty ? ['script', ['-q', '-e', '-c', command, '/dev/null']] : ['sh', ['-c', command]];
  return new Promise((resolve) => {
    const child = execFile(file as string, args as string[], { env: { ...env, SHELL: '/bin/sh' }, timeout: WAIT_MS, killSignal: 'SIGKILL', encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
    child.stdin?.end();
  });
}

/** What a terminal shows of `output`: escape sequences gone, one trimmed row per line, empty rows dropped. */
const terminalRows = (output: string): string[] =>
  output
    // eslint-disable-next-line no-control-regex
    .replace(/\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007|\u001b[()][0-9A-Za-z]/g, '')
    .split(/\r?\n|\r/)
    .map((row) => row.trim())
    .filter((row) => row !== '');

/** The page as a screen reader gives it (role, name, text): what a failure shows. */
async function screenOf(page: Page): Promise<string> {
  try {
    return await page.locator('body').ariaSnapshot({ timeout: 5_000 });
  } catch (error) {
    return `(no snapshot: ${(error as Error).message})`;
  }
}

/** Waits until `locator` is visible; fails after WAIT_MS with what the page shows then. */
async function waitVisible(page: Page, locator: Locator, what: string): Promise<void> {
  try {
    await locator.first().waitFor({ state: 'visible', timeout: WAIT_MS });
  } catch {
    throw new Error(`${what}: not on the page within ${WAIT_MS} ms (${page.url()}); the page shows:\n${await screenOf(page)}`);
  }
}

/** The Control UI's sign that it is connected: a status that says exactly "Connected" (the sidebar's). */
const connectedStatus = (page: Page): Locator => page.getByRole('status').filter({ hasText: /^\s*Connected\s*$/ });

/** Hosts the page asked for (http, https, ws), to check that nothing else was reached. */
function watchHosts(page: Page): Set<string> {
  const hosts = new Set<string>();
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol.startsWith('http') || url.protocol.startsWith('ws')) hosts.add(url.host);
  });
  page.on('websocket', (socket) => hosts.add(new URL(socket.url()).host));
  return hosts;
}

/** Runs the token command of the ready line as a person would (in a terminal: it refuses a pipe); the token it prints. */
async function tokenFromCommand(tokenCommand: string, env: Record<string, string>): Promise<string> {
  const shown = await runCommand(tokenCommand, env, { tty: true });
  expect(shown.code, shown.output).toBe(0);
  // The token is the last line; a banner comes before it.
  const token = terminalRows(shown.output).at(-1) ?? '';
  expect(token, shown.output).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  return token;
}

/** Fills the field the UI names "Gateway secret" with `token` and presses Connect, as the UI tells. */
async function enterToken(page: Page, token: string): Promise<void> {
  // The UI's own instruction names the field: "Paste the token from … into Gateway secret."
  await waitVisible(page, page.getByText(/into Gateway secret/), 'the instruction to paste the token into Gateway secret');
  await page.getByRole('textbox', { name: 'Gateway secret' }).fill(token, { timeout: WAIT_MS });
  await page.getByRole('button', { name: 'Connect', exact: true }).click({ timeout: WAIT_MS });
}

describe('the Control UI in headless Chromium, following the screen and the UI (real gateway)', () => {
  let sup: RunningSupervisor | undefined;
  let ns: Netns | undefined;
  let work: string | undefined;
  let ready: LogRecord;
  /** The environment of the person's terminal: what `npm start` ran with (no token: it is generated). */
  let personEnv: Record<string, string>;
  const browsers: Browser[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ocs-browser-'));
    ns = createNetns();
    sup = await startSupervisor({ gateway: null, env: { OPENCLAW_GATEWAY_TOKEN: undefined, SUPERVISOR_STARTUP_TIMEOUT_MS: String(WAIT_MS) } });
    personEnv = {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '/root',
      PORT: String(sup.port),
      SUPERVISOR_GATEWAY_PORT: String(sup.gatewayPort),
      OPENCLAW_STATE_DIR: sup.stateDir,
    };
    ready = await sup.waitFor('gateway.ready', undefined, WAIT_MS);
  }, 70_000);

  afterAll(async () => {
    for (const browser of browsers) await browser.close().catch(() => undefined);
    await sup?.kill();
    ns?.destroy();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  }, 20_000);

  it('locally: the URL and the token command of the ready line, the token pasted where the UI asks, and the UI says Connected', async () => {
    const urls = ready['urls'] as string[];
    const tokenCommand = String(ready['tokenCommand']);
    const local = urls.find((url) => new URL(url).hostname === 'localhost');
    expect(local, JSON.stringify(ready)).toBe(`http://localhost:${sup!.port}/`);
    // What the screen says is what the fields hold.
    expect(ready.msg).toContain(`open ${local}`);
    expect(ready.msg).toContain(`the token: ${tokenCommand}`);

    // The token command, typed in a second terminal of the person's.
    const token = await tokenFromCommand(tokenCommand, personEnv);

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: browserArgs('localhost') });
    browsers.push(browser);
    const page = await browser.newPage();
    const hosts = watchHosts(page);
    await page.goto(local!, { timeout: WAIT_MS });
    await enterToken(page, token);
    await waitVisible(page, connectedStatus(page), 'the local browser connected');
    // A browser on the gateway's own machine needs no approval.
    expect(await page.getByRole('heading', { name: 'Approve this browser' }).count()).toBe(0);
    expect([...hosts]).toEqual([`localhost:${sup!.port}`]);
    // The token went where it was asked for, never into the supervisor's log.
    expect(sup!.output.join('\n')).not.toContain(token);
  }, 70_000);

  it('remotely over plain http from a private address: the token, the approval the UI asks for with the command of the supervisor\'s record, and the UI connects by itself', async () => {
    // The person runs the ready line's token command on the gateway's machine and types the token over there.
    const token = await tokenFromCommand(String(ready['tokenCommand']), personEnv);
    // Chromium on "another machine": inside the namespace (a wrapper, since Playwright starts the executable itself).
    const wrapper = join(work!, 'chromium-in-netns');
    writeFileSync(wrapper, `#!/bin/sh\nexec ${ns!.exec([CHROMIUM]).join(' ')} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const browser = await chromium.launch({ executablePath: wrapper, args: browserArgs(ns!.hostAddress) });
    browsers.push(browser);
    const page = await browser.newPage();
    const hosts = watchHosts(page);
    const remote = `http://${ns!.hostAddress}:${sup!.port}/`;
    await page.goto(remote, { timeout: WAIT_MS });
    await enterToken(page, token);

    // The UI asks for a one-time approval on the gateway host and shows the request's id.
    await waitVisible(page, page.getByRole('heading', { name: 'Approve this browser' }), 'the request for approval');
    const uiCommand = (await page.getByText(/devices approve [0-9a-f-]{36}/).first().textContent({ timeout: WAIT_MS })) ?? '';
    const requestId = /devices approve ([0-9a-f-]{36})/.exec(uiCommand)?.[1] ?? '';
    expect(requestId, uiCommand).not.toBe('');

    // The supervisor's record for that request gives the command that works where it runs.
    const notice = await sup!.waitFor('gateway.pairing_required', (record) => record['requestId'] === requestId, WAIT_MS);
    expect(notice).toMatchObject({ clientAddress: ns!.nsAddress, clientId: 'openclaw-control-ui' });
    const approveCommand = String(notice['approveCommand']);
    expect(approveCommand).toMatch(new RegExp(`devices approve ${requestId}$`));
    const approved = await runCommand(approveCommand, personEnv);
    expect(approved.code, approved.output).toBe(0);

    // The page retries by itself (every 5-15 s): no click needed.
    const approvedAt = Date.now();
    await waitVisible(page, connectedStatus(page), 'the remote browser connected after the approval');
    console.log(`remote browser connected ${Date.now() - approvedAt} ms after the approval`);
    expect([...hosts]).toEqual([`${ns!.hostAddress}:${sup!.port}`]);
  }, 80_000);
});
