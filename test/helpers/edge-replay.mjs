// Replays WebSocket connect attempts the way a platform edge (or anyone else) sends them:
// `node edge-replay.mjs <plan.json>` runs the plan's attempts one after the other and prints one
// JSON line, an array with each attempt's outcome. The plan is a file (mode 0600) so that tokens
// never appear on a command line:
//   { "url": "ws://…/", "attempts": [{ "label": "…", "token": "…", "headers": { … } }] }
// Meant to run inside a network namespace (ip netns exec …), so that the peer address the
// supervisor sees is the namespace's own.
import { readFileSync } from 'node:fs';
import { connectAndCheck } from './gateway-client.mjs';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const outcomes = [];
for (const attempt of plan.attempts) {
  try {
    const result = await connectAndCheck(plan.url, attempt.token, { health: false, headers: attempt.headers ?? {} });
    const error = result.hello?.error ?? null;
    outcomes.push({
      label: attempt.label,
      ok: result.hello?.ok ?? false,
      code: error?.details?.code ?? error?.code ?? null,
      retryAfterMs: error?.details?.retryAfterMs ?? error?.retryAfterMs ?? null,
      error,
      close: result.close?.code ?? null,
      unexpected: result.unexpected ? { status: result.unexpected.status, body: result.unexpected.body } : null,
    });
  } catch (error) {
    outcomes.push({ label: attempt.label, ok: false, code: 'CLIENT_ERROR', message: error.message });
  }
}
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
process.exit(0);
