import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configValue, readEffectiveConfig } from '../../../src/gateway-config/effective-config.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'ocs-effective-'));

describe('readEffectiveConfig', () => {
  it('no file yet: the gateway defaults (an empty config)', async () => {
    expect(await readEffectiveConfig(join(dir(), 'openclaw.json'))).toEqual({ config: {}, error: null });
  });

  it('reads JSON5 with comments', async () => {
    const path = join(dir(), 'openclaw.json5');
    writeFileSync(path, '{\n  // mine\n  gateway: { auth: { rateLimit: { maxAttempts: 3, } } },\n}\n');
    const { config } = await readEffectiveConfig(path);
    expect(configValue(config, 'gateway.auth.rateLimit.maxAttempts')).toBe(3);
  });

  it('resolves the overlay like the gateway: arrays concatenated (included first), siblings win for scalars', async () => {
    const d = dir();
    writeFileSync(join(d, 'user.json5'), "{ gateway: { trustedProxies: ['10.1.2.3'], auth: { rateLimit: { lockoutMs: 1000 } } } }");
    writeFileSync(join(d, 'overlay.json'), JSON.stringify({ $include: join(d, 'user.json5'), gateway: { trustedProxies: ['127.0.0.1', '::1'], auth: { rateLimit: { lockoutMs: 2000 } } } }));
    const { config, error } = await readEffectiveConfig(join(d, 'overlay.json'));
    expect(error).toBeNull();
    expect(configValue(config, 'gateway.trustedProxies')).toEqual(['10.1.2.3', '127.0.0.1', '::1']);
    expect(configValue(config, 'gateway.auth.rateLimit.lockoutMs')).toBe(2000);
  });

  it('nested and relative includes, a list of includes', async () => {
    const d = dir();
    writeFileSync(join(d, 'a.json5'), '{ maxAttempts: 4 }');
    writeFileSync(join(d, 'b.json5'), '{ windowMs: 5 }');
    writeFileSync(join(d, 'main.json'), JSON.stringify({ gateway: { auth: { rateLimit: { $include: ['./a.json5', 'b.json5'] } } } }));
    const { config } = await readEffectiveConfig(join(d, 'main.json'));
    expect(configValue(config, 'gateway.auth.rateLimit')).toEqual({ maxAttempts: 4, windowMs: 5 });
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['bad JSON5', { 'main.json': '{ gateway: ' }, /JSON5|invalid|end of input/i],
    ['a missing include', { 'main.json': '{ "$include": "./gone.json" }' }, /ENOENT|gone\.json/],
    ['a circular include', { 'main.json': '{ "$include": "./other.json" }', 'other.json': '{ "$include": "./main.json" }' }, /circular/],
    ['not an object', { 'main.json': '[1, 2]' }, /does not hold an object/],
  ])('%s → an error, no config', async (_name, files, message) => {
    const d = dir();
    for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
    const result = await readEffectiveConfig(join(d, 'main.json'));
    expect(result.config).toBeNull();
    expect(result.error).toMatch(message);
  });
});
