import { describe, expect, it } from 'vitest';
import { buildGatewayCommand, ownedFlags } from '../../../src/gateway/gateway-command.js';
import { expectMentions, usageErrorOf } from '../usage-error-assert.js';

const BINARY = '/opt/openclaw/bin/openclaw';

describe('ownedFlags', () => {
  it.each([18789, 1, 65535])('binds loopback, sets port %d and token auth', (port) => {
    expect(ownedFlags(port)).toEqual(['--bind', 'loopback', '--port', String(port), '--auth', 'token']);
  });
});

describe('buildGatewayCommand: the pinned binary', () => {
  it.each([18789, 19000])('runs "gateway run --allow-unconfigured" with the owned flags on port %d', (port) => {
    expect(buildGatewayCommand(null, BINARY, port)).toEqual({
      file: BINARY,
      args: ['gateway', 'run', '--allow-unconfigured', '--bind', 'loopback', '--port', String(port), '--auth', 'token'],
    });
  });
});

describe('buildGatewayCommand: a user command', () => {
  it.each<[string[], string, string[]]>([
    [['node'], 'node', []],
    [['node', 'dist/index.js', 'gateway'], 'node', ['dist/index.js', 'gateway']],
    [['pnpm', 'openclaw', 'gateway', 'run', '--verbose'], 'pnpm', ['openclaw', 'gateway', 'run', '--verbose']],
    [['./gw', '--portal', 'x', '--port-range', '1', '--bindings', '--authority', '--tokens', '--password-file', 'f'], './gw', ['--portal', 'x', '--port-range', '1', '--bindings', '--authority', '--tokens', '--password-file', 'f']],
    [['./gw', 'port', 'bind', '-p', '1'], './gw', ['port', 'bind', '-p', '1']],
  ])('%j keeps its arguments and gets the owned flags appended', (command, file, args) => {
    expect(buildGatewayCommand(command, BINARY, 19000)).toEqual({ file, args: [...args, ...ownedFlags(19000)] });
  });

  it('does not modify the command it was given', () => {
    const command = ['node', 'gw.js'];
    buildGatewayCommand(command, BINARY, 19000);
    expect(command).toEqual(['node', 'gw.js']);
  });

  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'])(
    'passes an argument that happens to be an Object.prototype key (%s)',
    (arg) => {
      expect(buildGatewayCommand(['node', 'gw.js', arg], BINARY, 19000).args).toEqual(['gw.js', arg, ...ownedFlags(19000)]);
    },
  );

  it.each<[string[], string, string]>([
    [['openclaw', 'gateway', '--port', '1234'], '--port', 'SUPERVISOR_GATEWAY_PORT'],
    [['openclaw', 'gateway', '--port=1234'], '--port', 'SUPERVISOR_GATEWAY_PORT'],
    [['openclaw', 'gateway', '--bind', 'lan'], '--bind', 'loopback'],
    [['openclaw', 'gateway', '--bind=0.0.0.0'], '--bind', 'loopback'],
    [['openclaw', 'gateway', '--auth', 'none'], '--auth', 'token auth'],
    [['openclaw', 'gateway', '--auth=password'], '--auth', 'token auth'],
    [['openclaw', 'gateway', '--token', 'Wq8sLz03Xv'], '--token', 'OPENCLAW_GATEWAY_TOKEN'],
    [['openclaw', 'gateway', '--token=Wq8sLz03Xv'], '--token', 'OPENCLAW_GATEWAY_TOKEN'],
    [['openclaw', 'gateway', '--password', 'Wq8sLz03Xv'], '--password', 'OPENCLAW_GATEWAY_PASSWORD'],
    [['openclaw', 'gateway', '--password=Wq8sLz03Xv'], '--password', 'OPENCLAW_GATEWAY_PASSWORD'],
  ])('%j is rejected: %s is owned by the supervisor', (command, flag, why) => {
    const message = usageErrorOf(() => buildGatewayCommand(command, BINARY, 19000));
    expectMentions(message, [`sets ${flag}, which the supervisor owns`, why, 'Remove it from the command after --']);
    expect(message).not.toContain('Wq8sLz03Xv');
  });

  it.each<[string[]]>([[[]], [['']]])('%j is rejected as an empty command', (command) => {
    expectMentions(usageErrorOf(() => buildGatewayCommand(command, BINARY, 19000)), ['the gateway command after -- is empty']);
  });

  it('never puts a token or password flag in the argv it builds', () => {
    for (const command of [null, ['node', 'gw.js', 'gateway']]) {
      const { args } = buildGatewayCommand(command, BINARY, 19000);
      expect(args.filter((arg) => /^--(token|password)(=|$)/.test(arg))).toEqual([]);
    }
  });
});
