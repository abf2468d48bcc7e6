import { once } from 'node:events';
import { IncomingHttpHeaders, Server, createServer, request as httpRequest } from 'node:http';

/** Forwards every call to the simulator and keeps the headers each one arrived with (traceparent among them). */
export class RecordingProxy {
  readonly calls: Array<{ method: string; path: string; headers: IncomingHttpHeaders }> = [];
  private readonly server: Server;
  url = '';

  constructor(private readonly target: string) {
    this.server = createServer((incoming, answer) => {
      this.calls.push({ method: incoming.method ?? '', path: incoming.url ?? '', headers: incoming.headers });
      const forwarded = httpRequest(`${this.target}${incoming.url}`, { method: incoming.method, headers: incoming.headers }, (response) => {
        answer.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(answer);
      });
      forwarded.on('error', () => answer.destroy());
      incoming.pipe(forwarded);
    });
  }

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return (this.url = `http://127.0.0.1:${address.port}`);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close').catch(() => undefined);
  }
}

