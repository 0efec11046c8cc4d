import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { controlSocketPath, listenControl, requestControl } from '../../src/releases/control-socket.js';

/** The control socket `openclaw-supervisor update` talks to, on real Unix sockets. */
describe('control socket', () => {
  const closers: Array<() => void> = [];
  afterEach(() => {
    for (const close of closers.splice(0)) close();
  });
  const dir = (): string => join(mkdtempSync(join(tmpdir(), 'ocs-control-')), 'store');

  it('answers one request with its progress lines, then the result; the socket is 0600', async () => {
    const path = controlSocketPath(dir());
    const server = await listenControl(path, async (request, progress) => {
      progress('one');
      progress('two');
      return { echo: request['op'] };
    });
    closers.push(() => server?.close());
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const lines: string[] = [];
    await expect(requestControl(path, { op: 'check' }, (line) => lines.push(line))).resolves.toEqual({ echo: 'check' });
    expect(lines).toEqual(['one', 'two']);
  });

  it("passes the handler's error on as the request's error", async () => {
    const path = controlSocketPath(dir());
    const server = await listenControl(path, async () => {
      throw new Error('an update is already under way: wait for it to end');
    });
    closers.push(() => server?.close());
    await expect(requestControl(path, { op: 'update', to: 'latest' }, () => undefined)).rejects.toThrow('an update is already under way');
  });

  it('refuses a request that is no JSON object, and drops an endless line', async () => {
    const path = controlSocketPath(dir());
    const server = await listenControl(path, async () => 'never');
    closers.push(() => server?.close());
    const raw = (payload: string): Promise<string> =>
      new Promise((resolve) => {
        const socket = createConnection(path);
        let text = '';
        socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        socket.on('close', () => resolve(text));
        socket.on('error', () => undefined);
        socket.write(payload);
      });
    expect(JSON.parse(await raw('[1,2]\n'))).toEqual({ error: 'the request is not a JSON object' });
    expect(await raw('x'.repeat(10_000))).toBe('');
  });

  it('replaces a socket file an exited supervisor left; leaves one a live supervisor answers on', async () => {
    const storeDir = dir();
    const path = controlSocketPath(storeDir);
    // A live one: another server listens there.
    const first = await listenControl(path, async () => 'first');
    closers.push(() => first?.close());
    await expect(listenControl(path, async () => 'second')).resolves.toBeNull();
    await expect(requestControl(path, { op: 'check' }, () => undefined)).resolves.toBe('first');
    // A stale one: a socket file nobody listens on any more (closing the server keeps no file; a killed process leaves one).
    const stalePath = controlSocketPath(dir());
    await listenControl(stalePath, async () => 'x').then((server) => server?.close());
    const left = createServer();
    await new Promise<void>((resolve) => left.listen(stalePath, resolve));
    left.close(); // unlinks; write a plain file where the socket was, as a crash can leave something behind
    writeFileSync(stalePath, '');
    const replaced = await listenControl(stalePath, async () => 'new');
    closers.push(() => replaced?.close());
    await expect(requestControl(stalePath, { op: 'check' }, () => undefined)).resolves.toBe('new');
  });

  it('says ENOENT when no supervisor ever listened there', async () => {
    await expect(requestControl(controlSocketPath(dir()), { op: 'check' }, () => undefined)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
