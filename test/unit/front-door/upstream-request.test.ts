import { describe, expect, it } from 'vitest';
import type { ForwardableAttribution } from '../../../src/front-door/client-attribution.js';
import { serializeRequestHead, upstreamRequest } from '../../../src/front-door/upstream-request.js';

const LOCAL: ForwardableAttribution = { kind: 'local' };
const REMOTE: ForwardableAttribution = { kind: 'remote', client: '203.0.113.7', source: 'peer', proto: 'https', host: 'app.example', replaced: false };

const head = (rawHeaders: string[], method = 'POST', url = '/a?b=1') => ({ method, url, httpVersion: '1.1', rawHeaders });

describe('upstreamRequest: one builder for HTTP and WebSocket', () => {
  it('keeps method and target verbatim', () => {
    const request = upstreamRequest(head(['Host', 'h'], 'PATCH', '/x/%2Fy?z=1&z=2'), LOCAL, 'http');
    expect([request.method, request.path]).toEqual(['PATCH', '/x/%2Fy?z=1&z=2']);
  });

  it.each<[string, string[], string[], string]>([
    ['no body', ['Host', 'h'], ['Host', 'h'], 'none'],
    ['a known length', ['Host', 'h', 'Content-Length', ' 12 '], ['Host', 'h', 'content-length', '12'], 'length'],
    ['a zero length (no body)', ['Host', 'h', 'Content-Length', '0'], ['Host', 'h'], 'none'],
    ['a chunked body (undici chunks it again)', ['Host', 'h', 'Transfer-Encoding', 'chunked'], ['Host', 'h'], 'chunked'],
  ])('HTTP, %s: framing of this hop only', (_name, raw, headers, framing) => {
    const request = upstreamRequest(head(raw), LOCAL, 'http');
    expect(request.headers).toEqual(headers);
    expect(request.framing.kind).toBe(framing);
  });

  it('drops what Connection names even when Connection comes after it, keeps the rest in order', () => {
    const request = upstreamRequest(head(['X-Private', '1', 'Host', 'h', 'Connection', 'x-private, keep-alive', 'Keep-Alive', 'timeout=5', 'X-Keep', '2']), LOCAL, 'http');
    expect(request.headers).toEqual(['Host', 'h', 'X-Keep', '2']);
  });

  it('a WebSocket upgrade gets its own Connection and Upgrade, and no framing', () => {
    const raw = ['Host', 'h', 'Connection', 'Upgrade', 'Upgrade', 'WebSocket', 'Sec-WebSocket-Key', 'k', 'Sec-WebSocket-Version', '13', 'Content-Length', '0'];
    const request = upstreamRequest(head(raw, 'GET', '/'), REMOTE, 'websocket');
    expect(request.headers).toEqual([
      'Host', 'h', 'Sec-WebSocket-Key', 'k', 'Sec-WebSocket-Version', '13',
      'connection', 'Upgrade', 'upgrade', 'websocket',
      'x-forwarded-for', '203.0.113.7', 'x-forwarded-proto', 'https', 'x-forwarded-host', 'app.example',
    ]);
    expect(serializeRequestHead(request)).toBe(
      'GET / HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key: k\r\nSec-WebSocket-Version: 13\r\nconnection: Upgrade\r\nupgrade: websocket\r\n' +
        'x-forwarded-for: 203.0.113.7\r\nx-forwarded-proto: https\r\nx-forwarded-host: app.example\r\n\r\n',
    );
  });

  it('replaces any attribution the client sent', () => {
    const raw = ['Host', 'h', 'X-Forwarded-For', '1.2.3.4', 'X-Real-IP', '1.2.3.4', 'Forwarded', 'for=1.2.3.4', 'X-Forwarded-Port', '1'];
    expect(upstreamRequest(head(raw, 'GET'), LOCAL, 'http').headers).toEqual(['Host', 'h']);
    expect(upstreamRequest(head(raw, 'GET'), { ...REMOTE, host: undefined }, 'http').headers).toEqual(['Host', 'h', 'x-forwarded-for', '203.0.113.7', 'x-forwarded-proto', 'https']);
  });
});
