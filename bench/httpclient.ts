/**
 * A small JSON client for the apiserver's REST API, like kubectl's transport: keep-alive
 * connections from a bounded pool, JSON bodies, and watch streams read as JSON lines.
 */
import http from 'node:http';

export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    body: string,
  ) {
    super(`${method} ${path}: HTTP ${status}: ${body.slice(0, 300)}`);
    this.name = 'HttpStatusError';
  }
}

export class HttpJsonClient {
  private readonly agent: http.Agent;
  private readonly base: URL;

  /** maxSockets bounds the connections, as a client's pool does. */
  constructor(baseUrl: string, maxSockets: number) {
    this.base = new URL(baseUrl);
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  /** One request; resolves to the parsed JSON reply, rejects with HttpStatusError on >= 400. */
  request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = http.request(
        {
          host: this.base.hostname,
          port: this.base.port,
          method,
          path,
          agent: this.agent,
          headers: {
            Accept: 'application/json',
            ...(payload !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status >= 400) return reject(new HttpStatusError(status, method, path, text));
            try {
              resolve(JSON.parse(text) as T);
            } catch (e) {
              reject(new Error(`${method} ${path}: unreadable JSON reply: ${(e as Error).message}`));
            }
          });
        },
      );
      req.on('error', (e) => reject(new Error(`${method} ${path}: ${e.message}`)));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /**
   * Opens a watch (`?watch=1` on a collection path with its query) on its own
   * connection; onEvent gets each decoded event as its line arrives, onError a refusal
   * or a broken stream. It does not wait for the response headers: the apiserver sends
   * them only with the first event (see bench/README.md), and a watch from a
   * resourceVersion loses nothing written after that version whenever it registers.
   */
  watch(pathAndQuery: string, onEvent: (ev: { type: string; object: any }) => void, onError: (e: Error) => void): { stop(): void } {
    let stopped = false;
    const req = http.get(
      { host: this.base.hostname, port: this.base.port, path: pathAndQuery, headers: { Accept: 'application/json' }, agent: false },
      (res) => {
        if ((res.statusCode ?? 0) >= 400) {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c));
          res.on('end', () => onError(new HttpStatusError(res.statusCode ?? 0, 'GET', pathAndQuery, body)));
          return;
        }
        let rest = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const lines = (rest + chunk).split('\n');
          rest = lines.pop()!;
          for (const line of lines) if (line.trim()) onEvent(JSON.parse(line));
        });
        res.on('error', (e) => stopped || onError(e));
      },
    );
    req.on('error', (e) => stopped || onError(new Error(`GET ${pathAndQuery}: ${e.message}`)));
    return {
      stop: () => {
        stopped = true;
        req.destroy();
      },
    };
  }

  close(): void {
    this.agent.destroy();
  }
}
