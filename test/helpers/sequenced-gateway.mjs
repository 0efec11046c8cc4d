#!/usr/bin/env node
// Wraps test/fixtures/fake-gateway.mjs so that each spawn can behave differently:
//   FAKE_SEQUENCE       JSON array of FAKE_* overrides, one object per spawn (the last one repeats)
//   FAKE_SEQUENCE_FILE  a file counting the spawns so far (created on first use)
import { readFileSync, writeFileSync } from 'node:fs';

const counterFile = process.env.FAKE_SEQUENCE_FILE;
const sequence = JSON.parse(process.env.FAKE_SEQUENCE ?? '[{}]');
if (!counterFile || !Array.isArray(sequence) || sequence.length === 0) {
  process.stderr.write('sequenced gateway: set FAKE_SEQUENCE (non-empty JSON array) and FAKE_SEQUENCE_FILE\n');
  process.exit(1);
}
let index = 0;
try {
  index = Number(readFileSync(counterFile, 'utf8')) || 0;
} catch {
  // first spawn
}
writeFileSync(counterFile, String(index + 1));
Object.assign(process.env, sequence[Math.min(index, sequence.length - 1)]);
process.stderr.write(`sequenced gateway: spawn ${index + 1}\n`);
await import(new URL('../fixtures/fake-gateway.mjs', import.meta.url).href);
