import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandNotFoundError } from '../../../src/errors.js';
import { EXIT } from '../../../src/exit-codes.js';
import { MANAGED_NODE_BIN, WRAPPER_MARKER, resolveOpenclaw, withNodeFirst } from '../../../src/preflight/locate-gateway.js';
import { ROOT } from '../../helpers/supervisor.js';

/** The image's /usr/local/bin/openclaw, written by the Dockerfile's own printf command into `target`. */
function writeImageWrapper(target: string): void {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const printf = /printf '%s\\n' .*?> \/usr\/local\/bin\/openclaw/.exec(dockerfile)?.[0];
  expect(printf, 'the Dockerfile writes the wrapper with printf').toBeDefined();
  execFileSync('/bin/sh', ['-c', printf!.replace('/usr/local/bin/openclaw', target)]);
  chmodSync(target, 0o755);
}

describe('resolveOpenclaw', () => {
  let dir: string;
  let bin: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ocs-locate-'));
    bin = join(dir, 'bin');
    mkdirSync(bin);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("the Dockerfile's wrapper carries the marker in its first 512 bytes", () => {
    writeImageWrapper(join(bin, 'openclaw'));
    const text = readFileSync(join(bin, 'openclaw'), 'utf8');
    expect(text.slice(0, 512).split('\n')).toContain(WRAPPER_MARKER);
    expect(text).toContain('exec node /app/dist/cli.js openclaw "$@"');
  });

  it('refuses the wrapper found as `openclaw` on PATH (it would run this command again, without end): one line, exit 127, the fix', () => {
    writeImageWrapper(join(bin, 'openclaw'));
    const call = (): string => resolveOpenclaw('openclaw', `${join(dir, 'empty')}:${bin}`, dir);
    expect(call).toThrow(CommandNotFoundError);
    try {
      call();
    } catch (error) {
      expect((error as CommandNotFoundError).exitCode).toBe(EXIT.commandNotFound);
      expect((error as Error).message).toMatch(/openclaw-supervisor's own openclaw wrapper, not openclaw .*install openclaw next to node .*npm run runtime$/);
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('refuses it by path and through a link too', () => {
    writeImageWrapper(join(bin, 'openclaw'));
    expect(() => resolveOpenclaw(join(bin, 'openclaw'), '', dir)).toThrow(/own openclaw wrapper/);
    symlinkSync(join(bin, 'openclaw'), join(dir, 'linked'));
    expect(() => resolveOpenclaw('./linked', '', dir)).toThrow(/own openclaw wrapper/);
  });

  it('takes an openclaw that is not the wrapper, and says what it tried when there is none', () => {
    writeFileSync(join(bin, 'openclaw'), '#!/usr/bin/env node\n// openclaw-supervisor in a comment is no marker\nimport("./openclaw.mjs");\n', { mode: 0o755 });
    expect(resolveOpenclaw('openclaw', bin, dir)).toBe(join(bin, 'openclaw'));
    expect(() => resolveOpenclaw('openclaw', join(dir, 'empty'), dir)).toThrow(/not found or not executable/);
  });
});

describe('the Node 24 runtime on PATH', () => {
  it('withNodeFirst puts the bin dir first, never leaving an empty PATH element; without one PATH stays as is', () => {
    expect(withNodeFirst('/rt/bin', '/usr/bin:/bin')).toBe('/rt/bin:/usr/bin:/bin');
    expect(withNodeFirst('/rt/bin', '')).toBe('/rt/bin');
    expect(withNodeFirst('/rt/bin', undefined)).toBe('/rt/bin');
    expect(withNodeFirst(null, '/usr/bin')).toBe('/usr/bin');
    expect(withNodeFirst(null, undefined)).toBe('');
  });

  it("the scripts' copy (scripts/runtime-path.mjs, run before the build) is the same", async () => {
    const scripts = (await import(join(ROOT, 'scripts', 'runtime-path.mjs'))) as { managedNodeBin(root: string): string; withNodeFirst(dir: string, path?: string): string };
    expect(scripts.managedNodeBin(ROOT)).toBe(MANAGED_NODE_BIN);
    for (const path of ['/usr/bin:/bin', '', undefined]) expect(scripts.withNodeFirst('/rt/bin', path)).toBe(withNodeFirst('/rt/bin', path));
  });
});
