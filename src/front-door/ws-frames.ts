/**
 * Tracks WebSocket frame boundaries in a byte stream without copying or decoding payloads, so
 * that the front door can splice its own close frame between two frames of a forwarded stream
 * (RFC 6455 §5.4 allows control frames between the fragments of a message).
 */
export class FrameBoundaryTracker {
  readonly #header = Buffer.alloc(14);
  #headerLength = 0;
  #payloadLeft = 0;
  /** A close frame went by: the endpoints are closing by themselves. */
  closeSeen = false;

  get atBoundary(): boolean {
    return this.#headerLength === 0 && this.#payloadLeft === 0;
  }

  readonly feed = (chunk: Buffer): void => {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#payloadLeft > 0) {
        const skip = Math.min(this.#payloadLeft, chunk.length - offset);
        this.#payloadLeft -= skip;
        offset += skip;
        continue;
      }
      this.#header[this.#headerLength++] = chunk[offset++] ?? 0;
      const size = headerSize(this.#header, this.#headerLength);
      if (size !== null && this.#headerLength === size) {
        if ((this.#header[0]! & 0x0f) === 0x8) this.closeSeen = true;
        this.#payloadLeft = payloadLength(this.#header);
        this.#headerLength = 0;
      }
    }
  };
}

function headerSize(header: Buffer, have: number): number | null {
  if (have < 2) return null;
  const length7 = header[1]! & 0x7f;
  const masked = (header[1]! & 0x80) !== 0;
  return 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (masked ? 4 : 0);
}

function payloadLength(header: Buffer): number {
  const length7 = header[1]! & 0x7f;
  if (length7 === 126) return header.readUInt16BE(2);
  if (length7 === 127) return Number(header.readBigUInt64BE(2));
  return length7;
}

/** An unmasked close frame, as a server sends it (RFC 6455 §5.5.1). */
export function encodeCloseFrame(code: number, reason: string): Buffer {
  const utf8 = Buffer.from(reason, 'utf8');
  // At most 123 bytes (a control frame carries 125), cut before a character, never inside one.
  let end = Math.min(utf8.length, 123);
  while (end < utf8.length && end > 0 && (utf8[end]! & 0xc0) === 0x80) end--;
  const text = utf8.subarray(0, end);
  const frame = Buffer.alloc(4 + text.length);
  frame[0] = 0x88;
  frame[1] = 2 + text.length;
  frame.writeUInt16BE(code, 2);
  text.copy(frame, 4);
  return frame;
}

/** Close codes the front door sends itself. */
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_SERVICE_RESTART = 1012;
