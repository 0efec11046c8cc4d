import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tokenCommand, tokenCommandHere, type TokenCommandFacts } from '../../../src/cli/token-command.js';
import { WRAPPER_MARKER } from '../../../src/preflight/locate-gateway.js';

const SELF = 'node /app/dist/cli.js';

describe('tokenCommand: the command that prints the token, as short as works where the person is', () => {
  it.each<[string, Partial<TokenCommandFacts>, string]>([
    ["in the image: the wrapper on PATH is the supervisor's openclaw", { openclawIsWrapper: true }, 'openclaw gateway auth-token --show'],
    ['next to npm start', { npmStart: true }, 'npm run openclaw -- gateway auth-token --show'],
    ['the image wins over npm (npm start inside the image)', { openclawIsWrapper: true, npmStart: true }, 'openclaw gateway auth-token --show'],
    ['started as node dist/cli.js', {}, `${SELF} openclaw gateway auth-token --show`],
    ['flags that choose the gateway: only the self command repeats them', { openclawIsWrapper: true, npmStart: true, targetFlags: true, selfCommand: `${SELF} --state-dir /data` }, `${SELF} --state-dir /data openclaw gateway auth-token --show`],
  ])('%s', (_name, facts, expected) => {
    expect(tokenCommand({ openclawIsWrapper: false, npmStart: false, selfCommand: SELF, targetFlags: false, ...facts })).toBe(expected);
  });
});

describe('tokenCommandHere', () => {
  const argv = ['node', '/app/dist/cli.js'];
  /** A PATH holding one `openclaw`: the image's wrapper (with its marker) or another program. */
  function pathWith(content: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'ocs-token-command-'));
    writeFileSync(join(dir, 'openclaw'), content);
    chmodSync(join(dir, 'openclaw'), 0o755);
    return dir;
  }

  it.each<[string, Record<string, string>, string]>([
    ['the wrapper on PATH', { PATH: pathWith(`#!/bin/sh\n${WRAPPER_MARKER}\nexec node /app/dist/cli.js openclaw "$@"\n`) }, 'openclaw gateway auth-token --show'],
    ['a real openclaw on PATH is not the wrapper', { PATH: pathWith('#!/bin/sh\necho openclaw\n') }, `${SELF} openclaw gateway auth-token --show`],
    ['npm start of this package', { PATH: '/nowhere', npm_lifecycle_event: 'start', npm_package_name: 'openclaw-supervisor' }, 'npm run openclaw -- gateway auth-token --show'],
    ["another package's npm start", { PATH: '/nowhere', npm_lifecycle_event: 'start', npm_package_name: 'my-app' }, `${SELF} openclaw gateway auth-token --show`],
  ])('%s', (_name, env, expected) => {
    expect(tokenCommandHere(env, argv)).toBe(expected);
  });

  it('with a flag that chooses the gateway, the self command with it', () => {
    expect(tokenCommandHere({ PATH: '/nowhere', npm_lifecycle_event: 'start', npm_package_name: 'openclaw-supervisor' }, [...argv, '--state-dir', '/data', '--log-level', 'debug'])).toBe(`${SELF} --state-dir /data openclaw gateway auth-token --show`);
  });
});
