import { describe, expect, it } from 'vitest';
import { ALL_INTERFACES, ALL_IPV4_INTERFACES, LOOPBACK_ADDRESSES, isLoopback, isWildcardHost, localAddressFor } from '../../../src/host/loopback.js';

describe('the loopback and wildcard addresses (src/host/loopback.ts)', () => {
  it.each(['127.0.0.1', '127.0.0.2', '127.255.255.254', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'])('%s is loopback', (address) => {
    expect(isLoopback(address)).toBe(true);
  });

  it.each(['128.0.0.1', '10.0.0.1', '::', '0.0.0.0', '::2', 'localhost', '127.example', ''])('%s is not (an address outside 127/8 and ::1, or no IP address)', (address) => {
    expect(isLoopback(address)).toBe(false);
  });

  it('both loopback addresses are loopback; the wildcards are wildcards', () => {
    for (const address of LOOPBACK_ADDRESSES) expect(isLoopback(address)).toBe(true);
    expect([ALL_INTERFACES, ALL_IPV4_INTERFACES, ''].map(isWildcardHost)).toEqual([true, true, true]);
    expect(['::1', '127.0.0.1', '10.0.0.1', 'example.com'].map(isWildcardHost)).toEqual([false, false, false, false]);
  });


  it('a local client reaches a wildcard listener on IPv4 loopback, any other on its own address', () => {
    expect(localAddressFor('::')).toBe('127.0.0.1');
    expect(localAddressFor('0.0.0.0')).toBe('127.0.0.1');
    expect(localAddressFor('')).toBe('127.0.0.1');
    expect(localAddressFor('::1')).toBe('::1');
    expect(localAddressFor('192.0.2.7')).toBe('192.0.2.7');
  });
});
