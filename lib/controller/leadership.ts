/**
 * A controller process's controllers run only while it holds its Lease, as upstream's
 * controller managers do. A replica that loses the lease stops them and stands by,
 * campaigning again (upstream exits and is restarted by its supervisor); without leader
 * election they run at once.
 */
import { setMaxListeners } from 'node:events';
import { type ApiClient, LeaderElector } from '../client/mod.js';
import type { Controller } from './controller.js';

/** One controller to run, with its worker count and the name it is logged by. */
export interface ControllerToRun {
  name: string;
  workers: number;
  controller: Controller;
}

/** Upstream's --leader-elect flags, shared by every leader-elected manager's options. */
export interface LeaderElectionFlags {
  /** false: run at once, no Lease (upstream --leader-elect=false); default true */
  leaderElect?: boolean;
  /** upstream defaults 15 / 10 / 2 s */
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
}

export interface LeadershipOptions {
  client: ApiClient;
  /** the Lease, e.g. kube-system/kube-controller-manager */
  namespace: string;
  name: string;
  identity: string;
  flags: LeaderElectionFlags;
  log: (line: string) => void;
  /** builds a fresh set of controllers each time this process starts leading */
  build: () => ControllerToRun[];
  /**
   * starts the shared informers once the controllers are built: as client-go's
   * factory.Start, informers a controller asked for beyond its descriptor's list start too
   */
  startInformers: () => void;
}

export interface Leadership {
  /** true while this process leads and its controllers run */
  isLeader(): boolean;
  /** the controllers running now (only while leading) */
  running(): Controller[];
  /** ends the controllers and gives the lease up */
  stop(): Promise<void>;
}

/** Runs the controllers under leader election until `stop()`. */
export function runWithLeadership(o: LeadershipOptions): Leadership {
  let stopped = false;
  let leading = false;
  let active: ControllerToRun[] = [];
  let runs: Promise<void>[] = [];
  let elector: LeaderElector | undefined;
  let campaigning: Promise<void> | undefined;
  const abortAll = new AbortController();

  const run = (signal: AbortSignal): void => {
    // every controller's workers wait on this one signal
    setMaxListeners(0, signal);
    leading = true;
    active = o.build();
    o.startInformers();
    runs = active.map((a) => a.controller.run(a.workers, signal).catch((e) => o.log(`${a.name} stopped with an error: ${(e as Error).message}`)));
    o.log(`${o.identity} runs ${active.map((a) => a.name).join(', ')}`);
  };
  const stopRunning = async (): Promise<void> => {
    leading = false;
    const stopping = active.splice(0);
    await Promise.all(stopping.map((a) => a.controller.stop()));
    await Promise.all(runs.splice(0));
  };

  if (o.flags.leaderElect === false) run(abortAll.signal);
  else {
    campaigning = (async () => {
      while (!stopped) {
        const term = new AbortController();
        elector = new LeaderElector({
          client: o.client,
          namespace: o.namespace,
          name: o.name,
          identity: o.identity,
          leaseDurationSeconds: o.flags.leaseDurationSeconds,
          renewDeadlineSeconds: o.flags.renewDeadlineSeconds,
          retryPeriodSeconds: o.flags.retryPeriodSeconds,
          callbacks: {
            onStartedLeading: (signal) => {
              o.log(`${o.identity} is the leader`);
              run(AbortSignal.any([signal, term.signal, abortAll.signal]));
            },
            onStoppedLeading: () => {
              term.abort();
              if (!stopped) o.log(`${o.identity} lost the lease; standing by`);
            },
          },
        });
        await elector.run();
        term.abort();
        await stopRunning();
      }
    })().catch((e) => o.log(`leader election failed: ${(e as Error).message}`));
  }
  return {
    isLeader: () => leading && !stopped,
    running: () => active.map((a) => a.controller),
    async stop() {
      stopped = true;
      abortAll.abort();
      await stopRunning();
      await elector?.stop();
      await campaigning;
    },
  };
}
