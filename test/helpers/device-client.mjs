// A gateway client with a device identity (Ed25519 key pair kept in a file), as the Control UI and
// the openclaw CLI connect: the gateway then applies device pairing to it. Usable in-process or as a
// CLI (`node device-client.mjs <ws-url> <token-file> <identity-file> [--control-ui] [--platform-json=<JSON string>]
// [header:value …]`, prints one JSON line; --platform-json sets client.platform, control characters included), e.g. inside a network namespace. The token is read from a file so it never appears on
// a command line. Built from openclaw@2026.9.6: device id = sha256(raw public key), signature over
// the v3 payload `v3|id|client|mode|role|scopes|signedAt|token|nonce|platform|deviceFamily`.
import { createHash, createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';

const BACKEND = { id: 'gateway-client', version: '0.0.1', platform: 'linux', mode: 'backend' };
/** What the Control UI sends (openclaw@2026.9.6 control-ui-core: clientName openclaw-control-ui, mode webchat, navigator.platform). */
export const CONTROL_UI = { id: 'openclaw-control-ui', version: 'dev', platform: 'Linux x86_64', mode: 'webchat' };
const ROLE = 'operator';
const SCOPES = ['operator.admin'];

/** Loads the identity from the file, or creates it there (mode 0600) the first time. */
export function loadOrCreateIdentity(path) {
  if (existsSync(path)) {
    const stored = JSON.parse(readFileSync(path, 'utf8'));
    return { ...stored, privateKey: createPrivateKey(stored.privateKeyPem) };
  }
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'jwk' }).x; // base64url of the 32 raw bytes
  const id = createHash('sha256').update(Buffer.from(raw, 'base64url')).digest('hex');
  const privateKeyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  writeFileSync(path, JSON.stringify({ id, publicKey: raw, privateKeyPem }), { mode: 0o600 });
  return { id, publicKey: raw, privateKeyPem, privateKey };
}

/**
 * Connects with token + signed device proof. Resolves with the hello (res) and the close, as data:
 * `{ deviceId, hello: {ok, type, error}, close }`.
 */
export function connectWithDevice(url, token, identity, { headers = {}, timeoutMs = 20_000, client: CLIENT = BACKEND } = {}) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: timeoutMs });
    let hello = null;
    let unexpected = null;
    const timer = setTimeout(() => ws.terminate(), timeoutMs);
    ws.on('unexpected-response', (_req, res) => {
      unexpected = { status: res.statusCode };
      res.resume();
    });
    ws.on('error', () => undefined);
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.type === 'event' && message.event === 'connect.challenge') {
        const nonce = message.payload.nonce;
        const signedAt = Date.now();
        const payload = ['v3', identity.id, CLIENT.id, CLIENT.mode, ROLE, SCOPES.join(','), String(signedAt), token, nonce, CLIENT.platform.toLowerCase(), ''].join('|');
        const signature = sign(null, Buffer.from(payload, 'utf8'), identity.privateKey).toString('base64url');
        const params = {
          minProtocol: 4,
          maxProtocol: 4,
          client: CLIENT,
          role: ROLE,
          scopes: SCOPES,
          auth: { token },
          device: { id: identity.id, publicKey: identity.publicKey, signature, signedAt, nonce },
        };
        ws.send(JSON.stringify({ type: 'req', id: 'connect', method: 'connect', params }));
      } else if (message.type === 'res' && message.id === 'connect') {
        hello = { ok: message.ok, type: message.payload?.type ?? null, error: message.error ?? null, server: message.payload?.server ?? null };
        if (message.ok) ws.close(1000, 'done');
      }
    });
    ws.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ deviceId: identity.id, unexpected, hello, close: { code, reason: reason.toString() } });
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [url, tokenFile, identityFile, ...rest] = process.argv.slice(2);
  const token = readFileSync(tokenFile, 'utf8').trim();
  const headerArgs = rest.filter((arg) => arg !== '--control-ui' && !arg.startsWith('--platform-json='));
  const headers = Object.fromEntries(headerArgs.map((arg) => [arg.slice(0, arg.indexOf(':')), arg.slice(arg.indexOf(':') + 1)]));
  const platformArg = rest.find((arg) => arg.startsWith('--platform-json='));
  const base = rest.includes('--control-ui') ? CONTROL_UI : BACKEND;
  const client = platformArg ? { ...base, platform: JSON.parse(platformArg.slice('--platform-json='.length)) } : base;
  connectWithDevice(url, token, loadOrCreateIdentity(identityFile), { headers, client }).then((result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  });
}
