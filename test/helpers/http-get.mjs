// `node http-get.mjs <url> [header:value ...]`: one GET, prints {status, body} (or {error, code}) as JSON.
import http from 'node:http';

const [url, ...headerArgs] = process.argv.slice(2);
const headers = Object.fromEntries(headerArgs.map((arg) => [arg.slice(0, arg.indexOf(':')), arg.slice(arg.indexOf(':') + 1)]));
const request = http.get(url, { headers, timeout: 10_000 }, (res) => {
  let body = '';
  res.on('data', (chunk) => (body += chunk));
  res.on('end', () => {
    process.stdout.write(`${JSON.stringify({ status: res.statusCode, body })}\n`);
  });
});
request.on('timeout', () => request.destroy(new Error('timeout')));
request.on('error', (error) => process.stdout.write(`${JSON.stringify({ error: error.message, code: error.code ?? null })}\n`));
