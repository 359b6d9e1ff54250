/**
 * Forwarding one request of an aggregated group version to the server behind it: the
 * method, path, query, body and headers go through as they came (hop-by-hop headers
 * dropped), the answer streams back (watches included).
 */
import http from 'node:http';
import { ServiceUnavailableError } from '../../../lib/api/errors.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

function forwardable(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/** Proxies `req` to http://<endpoint><same path>; resolves once the answer is sent. */
export function proxyTo(endpoint: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const [host, port] = splitHostPort(endpoint);
    const headers = forwardable(req.headers);
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    headers['x-forwarded-host'] = req.headers.host ?? '';
    const out = http.request({ host, port, method: req.method, path: req.url, headers }, (answer) => {
      const back: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) back[k] = v;
      res.writeHead(answer.statusCode ?? 502, back);
      // a watch streams: flush the headers now, as the client waits for them
      res.flushHeaders();
      answer.pipe(res);
      answer.on('end', resolve);
      answer.on('error', () => {
        res.destroy();
        resolve();
      });
    });
    out.on('error', (e) => {
      if (res.headersSent) {
        res.destroy();
        return resolve();
      }
      reject(new ServiceUnavailableError(`error trying to reach service: ${e.message}`));
    });
    // the client went away: so does the forwarded request
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
}

function splitHostPort(endpoint: string): [string, number] {
  const i = endpoint.lastIndexOf(':');
  return [endpoint.slice(0, i).replace(/^\[|\]$/g, ''), Number(endpoint.slice(i + 1))];
}
