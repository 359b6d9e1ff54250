/**
 * Where the local cloud's load balancer IPs answer: a dummy interface of its own
 * (`flt-lb0` by default; a bridge without ports where the kernel lacks the dummy driver) carries each assigned IP as a /32, so this machine takes packets
 * for it (the proxy then DNATs them to the Service's endpoints), and an `unreachable`
 * route over the whole pool makes an IP of the pool that is not assigned fail at once on
 * this machine instead of following the default route off it. Both exist while a leading
 * cloud-controller-manager holds them and are removed when it stops; the assignments
 * themselves live in the API (loadbalancer.ts), so a restart puts the same IPs back.
 * Needs root: without it nothing is done and the IPs are only written to the Services.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const DEFAULT_LB_INTERFACE = 'flt-lb0';

export class HostCommandError extends Error {
  constructor(readonly command: string, message: string) {
    super(`${command}: ${message}`);
    this.name = 'HostCommandError';
  }
}

async function ip(...args: string[]): Promise<string> {
  try {
    return (await run('ip', args, { encoding: 'utf8' })).stdout;
  } catch (e) {
    throw new HostCommandError(`ip ${args.join(' ')}`, ((e as { stderr?: string }).stderr || (e as Error).message).trim());
  }
}

export class LoadBalancerInterface {
  private up = false;
  /** serialises the ip commands: an add racing the set-up or a flush would be lost */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly name: string,
    /** the pool, e.g. 10.240.0.0/24 */
    private readonly range: string,
  ) {}

  static canManage(): boolean {
    return process.getuid?.() === 0;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Creates the interface and the pool's route if missing; the addresses become exactly `ips`. */
  sync(ips: Iterable<string>): Promise<void> {
    return this.serial(async () => {
      await this.ensureUp();
      const want = new Set([...ips].map((i) => `${i}/32`));
      const have = await this.addresses();
      for (const a of have) if (!want.has(a)) await ip('addr', 'del', a, 'dev', this.name);
      for (const a of want) if (!have.has(a)) await ip('addr', 'replace', a, 'dev', this.name);
    });
  }

  add(address: string): Promise<void> {
    return this.serial(async () => {
      await this.ensureUp();
      await ip('addr', 'replace', `${address}/32`, 'dev', this.name);
    });
  }

  remove(address: string): Promise<void> {
    return this.serial(async () => {
      if (!this.up) return;
      try {
        await ip('addr', 'del', `${address}/32`, 'dev', this.name);
      } catch (e) {
        // already gone
        if (!/Cannot assign|ADDRNOTAVAIL/i.test((e as Error).message)) throw e;
      }
    });
  }

  /** Removes the route and the interface (with its addresses). */
  tearDown(): Promise<void> {
    return this.serial(async () => {
      this.up = false;
      await ip('route', 'del', 'unreachable', this.range).catch(() => undefined);
      await ip('link', 'del', this.name).catch(() => undefined);
    });
  }

  private async ensureUp(): Promise<void> {
    if (this.up) return;
    const exists = await ip('link', 'show', this.name).then(() => true, () => false);
    if (!exists) {
      // a kernel built without the dummy driver (as some VM kernels are) gets a bridge without
      // ports instead: addresses on it are just as local, and nothing is ever attached to it
      await ip('link', 'add', this.name, 'type', 'dummy').catch((e: Error) => {
        if (!/Unknown device type/i.test(e.message)) throw e;
        return ip('link', 'add', this.name, 'type', 'bridge');
      });
    }
    // no IPv6 link-local address: the interface only carries the pool's IPv4 addresses
    await ip('link', 'set', this.name, 'addrgenmode', 'none').catch(() => undefined);
    await ip('link', 'set', this.name, 'up');
    await ip('route', 'replace', 'unreachable', this.range);
    this.up = true;
  }

  private async addresses(): Promise<Set<string>> {
    const out = await ip('-4', '-o', 'addr', 'show', 'dev', this.name);
    return new Set([...out.matchAll(/inet (\S+)/g)].map((m) => m[1]!));
  }
}
