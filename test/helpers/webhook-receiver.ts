import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookReceiver {
  readonly url: string;
  /** Each alert's JSON body, in arrival order. */
  readonly bodies: Array<Record<string, unknown>>;
  /** Closes it, ending any request it holds (a `hang` receiver holds them all). */
  close(): void;
}

export interface WebhookReceiverOptions {
  /** The URL's path, e.g. one with a secret in it as Slack's are; default `/hook`. */
  readonly path?: string;
  /** `ok`: 200; `fail`: 500; `hang`: reads each body, never answers. Default `ok`. */
  readonly answer?: 'ok' | 'fail' | 'hang';
}

/** An incoming-webhook receiver on loopback: records each JSON body, then answers as told. */
export async function webhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const { path = '/hook', answer = 'ok' } = options;
  const bodies: Array<Record<string, unknown>> = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      bodies.push(JSON.parse(text) as Record<string, unknown>);
      if (answer === 'hang') return;
      res.statusCode = answer === 'ok' ? 200 : 500;
      res.end(answer === 'ok' ? 'ok' : 'boom');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    bodies,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
