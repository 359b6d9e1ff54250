/**
 * Who the dashboard acts as. Every API request it makes, the informers' lists and watches
 * included, takes its client from `clientFor(credentialsOf(req))`, and the streams NATS's
 * API does not carry (a followed pods/log, pods/exec) take the apiserver's HTTP address
 * and headers from `httpFor(credentialsOf(req))`: until authentication exists that is the
 * admin identity, and this file is the only thing login will replace.
 */
import type { IncomingMessage } from 'node:http';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Registry } from 'prom-client';
import { ServiceUnavailableError } from '../../lib/api/errors.js';
import { ApiClient, componentUserAgent } from '../../lib/client/mod.js';

export interface Credentials {
  user: string;
  groups: string[];
}

/** The admin identity every browser acts as while the cluster has no authentication. */
export const ADMIN: Credentials = { user: 'admin', groups: ['system:masters'] };

/** The credentials a browser's request (page load or WebSocket upgrade) carries. */
export function credentialsOf(_req: IncomingMessage): Credentials {
  return ADMIN;
}

/** The apiserver's HTTP front end as one identity reaches it (streams: pods/log follow, pods/exec). */
export interface ApiHttp {
  /** the base URL, e.g. http://127.0.0.1:6443 */
  url: string;
  /** headers every request carries (login adds the identity's here) */
  headers: Record<string, string>;
}

/** One API client per identity: the one place a request's credentials reach the apiserver. */
export class CredentialedClients {
  private readonly clients = new Map<string, ApiClient>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly registry?: Registry,
    /** the apiserver's HTTP URL (`--apiserver`); without it logs and shells are refused */
    private readonly apiserverUrl?: string,
  ) {}

  httpFor(_creds: Credentials): ApiHttp {
    if (!this.apiserverUrl) throw new ServiceUnavailableError('the dashboard was started without --apiserver URL: logs and shells need the apiserver\'s HTTP address');
    return { url: this.apiserverUrl.replace(/\/+$/, ''), headers: { 'User-Agent': componentUserAgent('flotilla-dashboard') } };
  }

  clientFor(creds: Credentials): ApiClient {
    let c = this.clients.get(creds.user);
    if (!c) {
      c = new ApiClient(this.nc, { registry: this.registry, userAgent: componentUserAgent('flotilla-dashboard') });
      this.clients.set(creds.user, c);
    }
    return c;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
