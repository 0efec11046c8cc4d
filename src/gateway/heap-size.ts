/**
 * Heap sizing of the gateway under a memory limit. `openclaw gateway install` sizes the
 * managed service's heap from the memory it may use; `gateway run`, which the supervisor starts,
 * does not, so under a container limit V8 keeps its own default and the kernel OOM-kills the tree
 * before V8 collects hard. The rule is the package's own, copied from
 * node_modules/openclaw/dist/gateway-heap-*.mjs (src/daemon/gateway-heap.ts upstream,
 * resolveGatewayHeapLimit, openclaw@2026.9.6):
 *   available = the constrained memory when it is at most the physical memory, in MiB
 *   heap = min(max(8192, available / 4), max(2048, available / 2), available × 0.75)
 * (e.g. 1 GiB → 768 MiB, 2 GiB → 1536, 4 GiB → 2048, 16 GiB → 8192). It installs it as
 * `--max-old-space-size=N`, and leaves any heap control the user set alone (parseHeapControls: the
 * four flags below, `-` or `_`); so does this.
 */
const MIB = 1024 * 1024;
const FLOOR_MIB = 2048;
const CAP_MIB = 8192;

/** The package's parseHeapControls pattern: a token that sets the old space or the heap. */
const HEAP_CONTROL = /^--max(?:[-_]old[-_]space[-_]size(?:[-_]percentage)?|[-_]heap[-_]size)(?:=|$)/u;

export function hasHeapControl(tokens: readonly string[]): boolean {
  return tokens.some((token) => HEAP_CONTROL.test(token));
}

/** The package's rule for `availableBytes` of memory; null below 2 MiB (unknown capacity). */
export function recommendedHeapMiB(availableBytes: number): number | null {
  if (!Number.isSafeInteger(availableBytes) || availableBytes < 2 * MIB) return null;
  const availableMiB = Math.floor(availableBytes / MIB);
  const capMiB = Math.max(CAP_MIB, Math.floor(availableMiB / 4));
  const headroomCapMiB = Math.floor(availableMiB * 0.75);
  return Math.min(capMiB, Math.max(FLOOR_MIB, Math.floor(availableMiB / 2)), headroomCapMiB);
}

export interface HeapInput {
  /** The container's memory limit (cgroup memory.max or v1 limit_in_bytes), null when unlimited or unknown. */
  readonly limitBytes: number | null;
  /** The machine's memory (os.totalmem()): a limit above it limits nothing. */
  readonly physicalBytes: number;
  /** NODE_OPTIONS as the gateway would inherit it. */
  readonly nodeOptions: string | undefined;
  /** The gateway's command line (file and arguments): `node --max-old-space-size=… …` sets it there. */
  readonly command: readonly string[];
}

export type HeapDecision =
  | { readonly kind: 'sized'; readonly maxOldSpaceSizeMiB: number; readonly limitBytes: number; readonly nodeOptions: string }
  | { readonly kind: 'user-set' | 'no-limit' | 'unknown-capacity' };

export function decideGatewayHeap(input: HeapInput): HeapDecision {
  const nodeOptions = input.nodeOptions?.trim() ?? '';
  if (hasHeapControl(nodeOptions.split(/\s+/u)) || hasHeapControl(input.command)) return { kind: 'user-set' };
  const { limitBytes, physicalBytes } = input;
  if (limitBytes === null || limitBytes <= 0) return { kind: 'no-limit' };
  // The package takes the physical memory when the limit exceeds it; that is no limit to size for.
  if (Number.isSafeInteger(physicalBytes) && physicalBytes > 0 && limitBytes > physicalBytes) return { kind: 'no-limit' };
  const mib = recommendedHeapMiB(limitBytes);
  if (mib === null) return { kind: 'unknown-capacity' };
  const flag = `--max-old-space-size=${mib}`;
  return { kind: 'sized', maxOldSpaceSizeMiB: mib, limitBytes, nodeOptions: nodeOptions === '' ? flag : `${nodeOptions} ${flag}` };
}
