import { describe, expect, it } from 'vitest';
import { CLOSE_GOING_AWAY, CLOSE_SERVICE_RESTART, FrameBoundaryTracker, encodeCloseFrame } from '../../../src/front-door/ws-frames.js';

const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

interface FrameSpec {
  readonly opcode: number;
  readonly length: number;
  readonly masked?: boolean;
  readonly fin?: boolean;
  /** Payload byte (repeated); defaults to a byte that looks like a close frame's first byte. */
  readonly fill?: number;
}

/** RFC 6455 §5.2 framing, written independently of the module under test. */
function encode({ opcode, length, masked = false, fin = true, fill = 0x88 }: FrameSpec): Buffer {
  const lengthBytes = length < 126 ? 0 : length <= 0xffff ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + (masked ? 4 : 0));
  header[0] = (fin ? 0x80 : 0) | opcode;
  header[1] = (masked ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) header.writeUInt16BE(length, 2);
  if (lengthBytes === 8) header.writeBigUInt64BE(BigInt(length), 2);
  const payload = Buffer.alloc(length, fill);
  if (masked) {
    const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
    key.copy(header, 2 + lengthBytes);
    for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ key[i % 4]!;
  }
  return Buffer.concat([header, payload]);
}

/** A stream of frames, where each frame ends, and where the first close frame's header ends. */
function stream(specs: readonly FrameSpec[]): { bytes: Buffer; boundaries: Set<number>; closeHeaderEnd: number | null } {
  const frames = specs.map(encode);
  const boundaries = new Set<number>([0]);
  let offset = 0;
  let closeHeaderEnd: number | null = null;
  frames.forEach((frame, i) => {
    const spec = specs[i]!;
    if (closeHeaderEnd === null && spec.opcode === OP.close) closeHeaderEnd = offset + frame.length - spec.length;
    offset += frame.length;
    boundaries.add(offset);
  });
  return { bytes: Buffer.concat(frames), boundaries, closeHeaderEnd };
}

function feedAll(chunks: readonly Buffer[]): FrameBoundaryTracker {
  const tracker = new FrameBoundaryTracker();
  for (const chunk of chunks) tracker.feed(chunk);
  return tracker;
}

const STREAMS: ReadonlyArray<[string, FrameSpec[]]> = [
  ['empty text frame', [{ opcode: OP.text, length: 0 }]],
  ['7-bit lengths', [{ opcode: OP.text, length: 1 }, { opcode: OP.binary, length: 125 }, { opcode: OP.ping, length: 4 }]],
  ['16-bit lengths', [{ opcode: OP.binary, length: 126 }, { opcode: OP.text, length: 300 }, { opcode: OP.binary, length: 65_535 }]],
  ['64-bit length', [{ opcode: OP.binary, length: 65_536 }, { opcode: OP.text, length: 3 }]],
  ['masked frames of every length class', [{ opcode: OP.text, length: 0, masked: true }, { opcode: OP.text, length: 125, masked: true }, { opcode: OP.binary, length: 126, masked: true }, { opcode: OP.binary, length: 70_000, masked: true }]],
  ['fragments with a control frame between them', [{ opcode: OP.text, length: 10, fin: false }, { opcode: OP.ping, length: 0 }, { opcode: OP.continuation, length: 10, fin: false }, { opcode: OP.pong, length: 2, masked: true }, { opcode: OP.continuation, length: 5 }]],
  ['close after data', [{ opcode: OP.text, length: 20 }, { opcode: OP.close, length: 2 }]],
  ['masked close with a reason', [{ opcode: OP.close, length: 30, masked: true }]],
  ['close with a 16-bit length is still a close', [{ opcode: OP.binary, length: 5 }, { opcode: OP.close, length: 125 }, { opcode: OP.text, length: 1 }]],
];

describe('FrameBoundaryTracker', () => {
  it('starts at a boundary with no close seen', () => {
    const tracker = new FrameBoundaryTracker();
    expect(tracker.atBoundary).toBe(true);
    expect(tracker.closeSeen).toBe(false);
  });

  it('an empty chunk changes nothing', () => {
    const tracker = feedAll([Buffer.alloc(0)]);
    expect([tracker.atBoundary, tracker.closeSeen]).toEqual([true, false]);
  });

  describe.each(STREAMS)('%s', (_name, specs) => {
    const { bytes, boundaries, closeHeaderEnd } = stream(specs);

    it('in one chunk: ends at a boundary, close seen only if a close frame went by', () => {
      const tracker = feedAll([bytes]);
      expect(tracker.atBoundary).toBe(true);
      expect(tracker.closeSeen).toBe(closeHeaderEnd !== null);
    });

    it('split in two at every byte offset: same result', () => {
      for (let split = 0; split <= bytes.length; split++) {
        const tracker = feedAll([bytes.subarray(0, split), bytes.subarray(split)]);
        if (!tracker.atBoundary || tracker.closeSeen !== (closeHeaderEnd !== null)) {
          expect.fail(`split at ${split}: atBoundary ${tracker.atBoundary}, closeSeen ${tracker.closeSeen}`);
        }
      }
    });

    it('one byte at a time: at a boundary exactly between frames; close seen once its header is complete', () => {
      const tracker = new FrameBoundaryTracker();
      for (let offset = 1; offset <= bytes.length; offset++) {
        tracker.feed(bytes.subarray(offset - 1, offset));
        const closeExpected = closeHeaderEnd !== null && offset >= closeHeaderEnd;
        if (tracker.atBoundary !== boundaries.has(offset) || tracker.closeSeen !== closeExpected) {
          expect.fail(`after byte ${offset}: atBoundary ${tracker.atBoundary} (want ${boundaries.has(offset)}), closeSeen ${tracker.closeSeen} (want ${closeExpected})`);
        }
      }
    });
  });

  it('split in three at every pair of offsets of a small mixed stream', () => {
    const { bytes, boundaries } = stream([
      { opcode: OP.text, length: 3, masked: true },
      { opcode: OP.binary, length: 130 },
      { opcode: OP.ping, length: 1, masked: true },
    ]);
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const tracker = feedAll([bytes.subarray(0, i), bytes.subarray(i, j)]);
        if (tracker.atBoundary !== boundaries.has(j)) expect.fail(`after ${i}+${j - i} bytes: atBoundary ${tracker.atBoundary}`);
        tracker.feed(bytes.subarray(j));
        if (!tracker.atBoundary) expect.fail(`split ${i}/${j}: not at a boundary at the end`);
      }
    }
  });

  it.each<[string, FrameSpec]>([
    ['a text frame whose payload is full of 0x88 bytes', { opcode: OP.text, length: 200, fill: 0x88 }],
    ['a ping', { opcode: OP.ping, length: 4 }],
    ['a pong', { opcode: OP.pong, length: 0 }],
    ['a continuation', { opcode: OP.continuation, length: 8, fin: false }],
  ])('%s is not a close', (_name, spec) => {
    expect(feedAll([encode(spec)]).closeSeen).toBe(false);
  });

  it('a non-final close opcode is still a close', () => {
    expect(feedAll([encode({ opcode: OP.close, length: 0, fin: false })]).closeSeen).toBe(true);
  });

  it('mid-payload is not a boundary, even for a large 64-bit frame', () => {
    const frame = encode({ opcode: OP.binary, length: 100_000, masked: true });
    const tracker = feedAll([frame.subarray(0, 50_000)]);
    expect(tracker.atBoundary).toBe(false);
    tracker.feed(frame.subarray(50_000));
    expect(tracker.atBoundary).toBe(true);
  });

  it('a partial header is not a boundary', () => {
    expect(feedAll([Buffer.from([0x82])]).atBoundary).toBe(false);
    expect(feedAll([Buffer.from([0x82, 0xfe, 0x01])]).atBoundary).toBe(false); // 16-bit length, one byte of it
  });
});

/** Decodes one unmasked server close frame: the test's own few lines, not the module's. */
function decodeClose(frame: Buffer): { fin: boolean; opcode: number; masked: boolean; length: number; code: number; reason: string } {
  const length = frame[1]! & 0x7f;
  expect(length).toBeLessThan(126);
  expect(frame.length).toBe(2 + length);
  return {
    fin: (frame[0]! & 0x80) !== 0,
    opcode: frame[0]! & 0x0f,
    masked: (frame[1]! & 0x80) !== 0,
    length,
    code: frame.readUInt16BE(2),
    reason: new TextDecoder('utf-8', { fatal: true }).decode(frame.subarray(4)),
  };
}

describe('encodeCloseFrame', () => {
  it('uses the RFC close codes for going away and service restart', () => {
    expect([CLOSE_GOING_AWAY, CLOSE_SERVICE_RESTART]).toEqual([1001, 1012]);
  });

  it.each<[number, string]>([
    [CLOSE_GOING_AWAY, 'supervisor shutting down'],
    [CLOSE_SERVICE_RESTART, 'gateway restarting'],
    [1000, ''],
    [4000, 'ünïcödé ✓ 🚀'],
    [1011, 'x'.repeat(123)],
  ])('round trip: %d %j', (code, reason) => {
    const frame = encodeCloseFrame(code, reason);
    expect(decodeClose(frame)).toEqual({ fin: true, opcode: 0x8, masked: false, length: 2 + Buffer.byteLength(reason), code, reason });
  });

  it.each<[string, string, string]>([
    ['ASCII', 'a'.repeat(200), 'a'.repeat(123)],
    ['2-byte characters', 'é'.repeat(100), 'é'.repeat(61)],
    ['3-byte characters', '✓'.repeat(50), '✓'.repeat(41)],
    ['4-byte characters', '🚀'.repeat(40), '🚀'.repeat(30)],
    ['a character across the cut', `${'a'.repeat(122)}é`, 'a'.repeat(122)],
  ])('truncates a long reason of %s to fit a control frame, at a character boundary', (_name, reason, kept) => {
    const decoded = decodeClose(encodeCloseFrame(1001, reason));
    expect(decoded.length).toBeLessThanOrEqual(125);
    expect(decoded.reason).toBe(kept);
  });

  it('is seen as a close, ending at a boundary, by the tracker', () => {
    const tracker = feedAll([encodeCloseFrame(CLOSE_SERVICE_RESTART, 'gateway restarting')]);
    expect([tracker.atBoundary, tracker.closeSeen]).toEqual([true, true]);
  });
});
