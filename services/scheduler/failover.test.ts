/**
 * Leader failover after a crash: two `flotilla scheduler` processes with upstream's
 * default leader election (leaseDuration 15 s, renewDeadline 10 s, retryPeriod 2 s) against
 * a real nats-server and apiserver. The leader is SIGKILLed, so it cannot give the lease
 * back; the standby must wait the lease out, take it, and schedule.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Lease, LeaseSpec } from 'kubernetes-types/coordination/v1.js';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { testApiServer } from '../../test/apiserver.js';
import { freshNats } from '../../test/harness.js';
import { apiNode } from './testing/harness.js';
import { ApiClient, connectNats, Resources, sleep, type Watch } from '../../lib/client/mod.js';
import { defaultLeaderElection } from './config.js';
import { waitFor } from '../../test/wait.js';

const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));


interface SchedulerProcess {
  child: ChildProcess;
  /** stdout and stderr so far, for failure messages */
  output: () => string;
  /** the leader-election identity the process prints on start */
  identity: Promise<string>;
}

/** One lease record as the test saw it arrive, with the local time it arrived. */
interface Sighting {
  spec: LeaseSpec;
  at: number;
}

describe('scheduler: leader failover after a crash', function () {
  this.timeout(120_000);
  const le = defaultLeaderElection();
  const leaseRef = { ...Resources.leases, namespace: le.resourceNamespace, name: le.resourceName };
  let server: Awaited<ReturnType<typeof testApiServer>>;
  let natsUrl = '';
  let nc: NatsConnection;
  let client: ApiClient;
  const children: ChildProcess[] = [];
  let leaseWatch: Watch<Lease> | undefined;

  function startScheduler(): SchedulerProcess {
    const child = spawn(process.execPath, [CLI, 'scheduler', '--nats', natsUrl, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let resolveId!: (id: string) => void;
    const identity = new Promise<string>((r) => (resolveId = r));
    const take = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = /^scheduler: (\S+) serving /m.exec(out);
      if (m) resolveId(m[1]!);
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    return { child, output: () => out, identity };
  }

  /** Follows the Lease, recording every record with its local arrival time. */
  function followLease(): Sighting[] {
    const seen: Sighting[] = [];
    leaseWatch = client.watch<Lease>(leaseRef);
    const w = leaseWatch;
    void (async () => {
      try {
        for await (const ev of w) if (ev.type === 'ADDED' || ev.type === 'MODIFIED') seen.push({ spec: ev.object.spec ?? {}, at: Date.now() });
      } catch {
        // the suite ended the watch or the apiserver went away; the waits below report it
      }
    })();
    return seen;
  }

  const events = async (pod: string, reason: string) =>
    (await client.list<Event>({ ...Resources.events, namespace: 'default' }, { fieldSelector: `involvedObject.name=${pod},reason=${reason}` })).items;
  const createPod = (name: string) =>
    client.create<Pod>({ ...Resources.pods, namespace: 'default' }, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m' } } }] },
    });
  const nodeOf = async (name: string) => (await client.get<Pod>({ ...Resources.pods, namespace: 'default', name })).spec?.nodeName;

  before(async () => {
    const nats = await freshNats();
    natsUrl = nats.url;
    server = await testApiServer({ natsUrl, bucket: 'scheduler-failover' });
    nc = await connectNats(natsUrl, { name: 'scheduler-failover' });
    client = new ApiClient(nc);
  });
  afterEach(async () => {
    leaseWatch?.stop();
    // no scheduler outlives the test, whether it passed or not
    await Promise.all(
      children.splice(0).map(async (c) => {
        if (c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGKILL');
        await exited;
      }),
    );
  });
  after(async () => {
    client?.close();
    await nc?.close();
    await server?.stop();
  });

  it('the standby takes the Lease within 15 s of the leader being SIGKILLed, and binds the pods created after', async () => {
    assert.deepEqual([le.leaseDuration, le.renewDeadline, le.retryPeriod], [15, 10, 2], 'the test assumes upstream default lease timings');
    await client.create(Resources.nodes, apiNode('failover-node', { cpu: '8', memory: '8Gi', pods: '110' }));
    const seen = followLease();
    const one = startScheduler();
    const two = startScheduler();
    const ids = await Promise.all(
      [one, two].map((p) => Promise.race([p.identity, sleep(30_000).then(() => assert.fail(`a scheduler did not start:\n${p.output()}`))])),
    );
    const holder = await waitFor('a scheduler to hold the Lease', () => {
      const h = seen.at(-1)?.spec.holderIdentity;
      return h && ids.includes(h) ? h : undefined;
    }, 30_000);
    const [leader, standby] = holder === ids[0] ? [one, two] : [two, one];
    const [leaderId, standbyId] = holder === ids[0] ? ids : [ids[1]!, ids[0]!];

    // only the leader schedules
    await createPod('before-crash');
    await waitFor('the leader to bind before-crash', () => nodeOf('before-crash'), 30_000);
    const first = await waitFor('the Scheduled event of before-crash', async () => (await events('before-crash', 'Scheduled'))[0], 15_000);
    assert.equal(first.reportingInstance, leaderId, 'the standby scheduled while the leader held the lease');

    // Kill between two renewals: the lease counts leaseDuration from the last renewal, and a
    // leader dies at a random point of its 2 s renew cycle; here 1.5 s after a renewal,
    // before the next one.
    // (Killed the instant after a renewal, no elector that waits the lease out, as upstream's
    // does, can be back within 15 s of the kill: the write itself takes a few milliseconds.)
    const renewalsBefore = seen.length;
    await waitFor('the leader to renew its lease', () => seen.length > renewalsBefore || undefined, 15_000);
    await sleep(1_500);
    leader.child.kill('SIGKILL');
    const killedAt = Date.now();
    await createPod('after-crash');

    const takeover = await waitFor('the standby to take the Lease', () => seen.find((s) => s.at >= killedAt && s.spec.holderIdentity === standbyId), 40_000);
    const lastByLeader = seen.filter((s) => s.spec.holderIdentity === leaderId).at(-1)!;
    const sinceKill = takeover.at - killedAt;
    const sinceLastRenew = Date.parse(takeover.spec.acquireTime!) - Date.parse(lastByLeader.spec.renewTime!);
    assert.ok(sinceKill <= 15_000, `the standby took the lease ${sinceKill} ms after the leader was killed (the issue asks for 15 s)`);
    // upstream semantics: the lease was not taken before it expired (one machine, one clock)
    assert.ok(sinceLastRenew >= 15_000, `the standby took the lease ${sinceLastRenew} ms after its last renewal, before it expired`);
    assert.equal(takeover.spec.leaseTransitions, (lastByLeader.spec.leaseTransitions ?? 0) + 1);
    assert.equal(takeover.spec.renewTime, takeover.spec.acquireTime);

    await waitFor('the new leader to bind after-crash', () => nodeOf('after-crash'), 30_000);
    const ev = await waitFor('the Scheduled event of after-crash', async () => (await events('after-crash', 'Scheduled'))[0], 15_000);
    assert.equal(ev.reportingInstance, standbyId);
    assert.equal(standby.child.exitCode, null, `the standby exited:\n${standby.output()}`);
  });
});
