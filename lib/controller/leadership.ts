/**
 * A controller process's controllers run only while it holds its Lease, as upstream's
 * controller managers do. A replica that loses the lease stops them and stands by,
 * campaigning again (upstream exits and is restarted by its supervisor); without leader
 * election they run at once.
 */
import { type ApiClient, LeaderElector } from '../client/mod.js';

export interface LeadershipOptions {
  client: ApiClient;
  /** the Lease, e.g. kube-system/kube-controller-manager */
  namespace: string;
  name: string;
  identity: string;
  /** false: run at once, no Lease (upstream --leader-elect=false) */
  leaderElect: boolean;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  log: (line: string) => void;
  /** starts the controllers; they run until `signal` aborts */
  run: (signal: AbortSignal) => void;
  /** stops the running controllers and resolves once they ended */
  stopRunning: () => Promise<void>;
}

/** Runs the controllers under leader election until `stop()`, which ends them and gives the lease up. */
export function runWithLeadership(o: LeadershipOptions): { stop(): Promise<void> } {
  let stopped = false;
  let elector: LeaderElector | undefined;
  let campaigning: Promise<void> | undefined;
  const abortAll = new AbortController();
  if (!o.leaderElect) o.run(abortAll.signal);
  else {
    campaigning = (async () => {
      while (!stopped) {
        const term = new AbortController();
        elector = new LeaderElector({
          client: o.client,
          namespace: o.namespace,
          name: o.name,
          identity: o.identity,
          leaseDurationSeconds: o.leaseDurationSeconds,
          renewDeadlineSeconds: o.renewDeadlineSeconds,
          retryPeriodSeconds: o.retryPeriodSeconds,
          callbacks: {
            onStartedLeading: (signal) => {
              o.log(`${o.identity} is the leader`);
              o.run(AbortSignal.any([signal, term.signal, abortAll.signal]));
            },
            onStoppedLeading: () => {
              term.abort();
              if (!stopped) o.log(`${o.identity} lost the lease; standing by`);
            },
          },
        });
        await elector.run();
        term.abort();
        await o.stopRunning();
      }
    })().catch((e) => o.log(`leader election failed: ${(e as Error).message}`));
  }
  return {
    async stop() {
      stopped = true;
      abortAll.abort();
      await o.stopRunning();
      await elector?.stop();
      await campaigning;
    },
  };
}
