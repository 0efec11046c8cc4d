import { describe, expect, it } from 'vitest';
import { decideGatewayHeap, recommendedHeapMiB, type HeapDecision, type HeapInput } from '../../../src/gateway/heap-size.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const PHYSICAL = 64 * GiB;
const OPENCLAW = ['/app/node_modules/.bin/openclaw', 'gateway', 'run', '--allow-unconfigured'];

describe('recommendedHeapMiB: the rule of openclaw gateway install (dist/gateway-heap-*.mjs)', () => {
  // min(max(8192, M/4), max(2048, M/2), M*0.75), M in MiB
  it.each<[string, number, number | null]>([
    ['below 2 MiB: unknown capacity', MiB, null],
    ['512 MiB: the headroom cap (3/4)', 512 * MiB, 384],
    ['1 GiB', GiB, 768],
    ['1.5 GiB', 1.5 * GiB, 1152],
    ['2 GiB', 2 * GiB, 1536],
    ['4 GiB: the 2048 floor', 4 * GiB, 2048],
    ['8 GiB: half', 8 * GiB, 4096],
    ['16 GiB: the 8192 cap', 16 * GiB, 8192],
    ['64 GiB: the cap grows to a quarter', 64 * GiB, 16384],
  ])('%s', (_name, bytes, expected) => {
    expect(recommendedHeapMiB(bytes)).toBe(expected);
  });
});

describe('decideGatewayHeap', () => {
  const base: HeapInput = { limitBytes: GiB, physicalBytes: PHYSICAL, nodeOptions: undefined, command: OPENCLAW };
  it.each<[string, Partial<HeapInput>, HeapDecision]>([
    ['1 GiB limit, nothing set', {}, { kind: 'sized', maxOldSpaceSizeMiB: 768, limitBytes: GiB, nodeOptions: '--max-old-space-size=768' }],
    ['other NODE_OPTIONS are kept', { nodeOptions: ' --enable-source-maps ' }, { kind: 'sized', maxOldSpaceSizeMiB: 768, limitBytes: GiB, nodeOptions: '--enable-source-maps --max-old-space-size=768' }],
    ['the user\'s --max-old-space-size in NODE_OPTIONS wins', { nodeOptions: '--max-old-space-size=3000' }, { kind: 'user-set' }],
    ['underscores too', { nodeOptions: '--max_old_space_size=3000' }, { kind: 'user-set' }],
    ['a percentage', { nodeOptions: '--trace-gc --max-old-space-size-percentage=50' }, { kind: 'user-set' }],
    ['--max-heap-size', { nodeOptions: '--max-heap-size 1000' }, { kind: 'user-set' }],
    ['on the gateway command', { command: ['node', '--max-old-space-size=4096', 'dist/index.js', 'gateway'] }, { kind: 'user-set' }],
    ['a look-alike flag is not one', { nodeOptions: '--max-old-space-sizes=1' }, { kind: 'sized', maxOldSpaceSizeMiB: 768, limitBytes: GiB, nodeOptions: '--max-old-space-sizes=1 --max-old-space-size=768' }],
    ['no limit', { limitBytes: null }, { kind: 'no-limit' }],
    ['a limit above the machine\'s memory limits nothing', { limitBytes: 2 * PHYSICAL }, { kind: 'no-limit' }],
    ['a limit too small to read', { limitBytes: 1024 }, { kind: 'unknown-capacity' }],
  ])('%s', (_name, input, expected) => {
    expect(decideGatewayHeap({ ...base, ...input })).toEqual(expected);
  });
});
