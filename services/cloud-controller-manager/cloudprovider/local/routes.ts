/**
 * The local cloud's Routes: how a node's podCIDR is reached from this machine.
 * - A node in a network namespace of its own (instance network `netns`) is behind a veth:
 *   its podCIDR gets a real route on this machine, `ip route replace CIDR via <its
 *   InternalIP> proto 77` (77 marks Flotilla's routes: listRoutes reads them back, and
 *   stopping removes them).
 * - The node that is this machine (`host`) has its pod bridge here: the podCIDR is a
 *   connected network already, nothing is programmed.
 * - A hollow node (`none`) has no network: its route exists only in the cloud's books.
 * The last two are kept in memory; a restarted manager records them again on its first
 * reconcile, which changes nothing on the Nodes. Stopping removes the routes this process
 * put on the machine, and only those: another cluster's (or test's) routes of protocol 77
 * stay; a killed manager's routes go with their node's veth.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { InstanceDirectory } from '../../../../lib/localcloud/mod.js';
import { InstanceNotFoundError, type Route, type Routes } from '../cloud.js';
import { HostCommandError } from './lbinterface.js';

const run = promisify(execFile);
/** the routing protocol number of Flotilla's routes (iproute2 leaves 5-252 to users) */
export const ROUTE_PROTO = '77';

async function ip(...args: string[]): Promise<string> {
  try {
    return (await run('ip', args, { encoding: 'utf8' })).stdout;
  } catch (e) {
    throw new HostCommandError(`ip ${args.join(' ')}`, ((e as { stderr?: string }).stderr || (e as Error).message).trim());
  }
}

export class LocalRoutes implements Routes {
  /** routes of host and hollow nodes, by destination */
  private readonly booked = new Map<string, Route>();
  /** destinations this process routed on the machine */
  private readonly programmed = new Set<string>();

  constructor(
    private readonly directory: InstanceDirectory,
    private readonly canProgram: boolean,
  ) {}

  async listRoutes(_clusterName: string): Promise<Route[]> {
    const routes = [...this.booked.values()];
    if (!this.canProgram) return routes;
    const byAddress = new Map(this.directory.list().map((i) => [i.internalIP, i.name]));
    const out = await ip('-4', 'route', 'show', 'proto', ROUTE_PROTO);
    for (const m of out.matchAll(/^(\S+) via (\S+)/gm)) {
      const [, cidr, via] = m;
      const target = byAddress.get(via!);
      routes.push({ name: `${cidr}`, targetNode: target ?? '', destinationCIDR: cidr!, blackhole: !target, targetNodeAddresses: [{ type: 'InternalIP', address: via! }] });
    }
    return routes;
  }

  async createRoute(_clusterName: string, nameHint: string, route: Route): Promise<void> {
    const instance = this.directory.get(route.targetNode);
    if (!instance) throw new InstanceNotFoundError(`local://${route.targetNode}`);
    if (instance.network !== 'netns') {
      this.booked.set(route.destinationCIDR, { ...route, name: nameHint });
      return;
    }
    if (!this.canProgram) throw new HostCommandError('ip route replace', `not root: cannot route ${route.destinationCIDR} to node ${route.targetNode} at ${instance.internalIP}`);
    this.booked.delete(route.destinationCIDR);
    this.programmed.add(route.destinationCIDR);
    await ip('route', 'replace', route.destinationCIDR, 'via', instance.internalIP, 'proto', ROUTE_PROTO);
  }

  async deleteRoute(_clusterName: string, route: Route): Promise<void> {
    if (this.booked.delete(route.destinationCIDR)) return;
    if (!this.canProgram) return;
    await ip('route', 'del', route.destinationCIDR, 'proto', ROUTE_PROTO).catch((e: Error) => {
      if (!/No such process|not found/i.test(e.message)) throw e;
    });
    this.programmed.delete(route.destinationCIDR);
  }

  /** Removes the routes this process put on the machine. */
  async stop(): Promise<void> {
    for (const cidr of this.programmed) await ip('route', 'del', cidr, 'proto', ROUTE_PROTO).catch(() => undefined);
    this.programmed.clear();
  }
}
