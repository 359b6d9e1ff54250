import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import type { Service } from 'kubernetes-types/core/v1.js';
import { isNotFound, Resources } from '../../lib/client/mod.js';
import { EndpointSliceController } from '../controller-manager/controllers/endpoints/endpointslice.js';
import { runTestController, type RunningTestController } from '../controller-manager/testing/controllers.js';
import { deleteTableTransaction, nftApply } from '../proxy/nftables.js';
import { startProxy, type RunningProxy } from '../proxy/server.js';
import { curlFromHost, startRealNode, type RealNode } from '../../test/realnode.js';
import { waitFor } from '../../test/wait.js';
import { startCloudControllerManager, type RunningCloudControllerManager } from './server.js';

const SERVICES = { ...Resources.services, namespace: 'default' };

/**
 * A LoadBalancer that answers, end to end on a real node (root): the local cloud gives the
 * Service an IP of a pool of this suite's own and puts it on an interface of its own, the
 * proxy (its own nftables table) DNATs it to the pod, and curl from the host gets the
 * pod's page; deleting the Service takes the IP off again. Everything of the suite's is
 * removed in `after`, even when a test failed.
 */
describe('cloud-controller-manager: a LoadBalancer IP that answers (root, real node, proxy)', function () {
  this.timeout(120_000);
  let rn: RealNode;
  let eps: RunningTestController<EndpointSliceController> | undefined;
  let proxy: RunningProxy | undefined;
  let ccm: RunningCloudControllerManager | undefined;
  let table = '';
  const n = randomInt(1, 250);
  const range = `10.241.${n}.0/29`;
  const iface = `flt-lbr${n.toString(16)}`;
  const clusterIP = `10.110.${n}.10`;

  before(async () => {
    rn = await startRealNode('the cloud load balancer suite', { prefix: 'lb' });
    table = `flt-proxy-lb-${rn.host.suffix}`;
    eps = await runTestController(rn.api.natsUrl, 'ccm-lb-endpointslice', 1, (ctx) => new EndpointSliceController(ctx));
    proxy = await startProxy({ natsUrl: rn.api.natsUrl, nodeName: rn.nodeName, table, clusterCIDR: rn.host.subnet, serviceCIDR: `10.110.${n}.0/24`, metricsPort: 0, minSyncPeriodMs: 100, log: () => {} });
    ccm = await startCloudControllerManager({ natsUrl: rn.api.natsUrl, port: 0, leaderElect: false, controllers: ['service-lb-controller'], loadBalancerIPRange: range, loadBalancerInterface: iface, log: () => {} });
    const web = ['sh', '-c', 'mkdir -p /tmp/www && echo "hello from $(hostname)" > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www'];
    const pod = await rn.createPod({ containers: [{ name: 'c', image: 'busybox', command: web }], terminationGracePeriodSeconds: 0 }, { name: 'web', labels: { app: 'web' } });
    await rn.podIn(pod.metadata!.name!, 'Running', 60_000);
  });

  after(async () => {
    await ccm?.stop().catch(() => undefined);
    await proxy?.stop().catch(() => undefined);
    await eps?.stop().catch(() => undefined);
    if (table) await nftApply(deleteTableTransaction(table)).catch(() => undefined);
    await rn?.stop();
    for (const args of [['link', 'del', iface], ['route', 'del', 'unreachable', range]]) spawnSync('ip', args, { stdio: 'ignore' });
  });

  it('kubectl expose --type=LoadBalancer style: the EXTERNAL-IP answers curl from the host with the pod\'s page, and goes with the Service', async () => {
    await rn.client.create(SERVICES, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { type: 'LoadBalancer', clusterIP, selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] },
    } satisfies Service);
    const ip = await waitFor('web\'s ingress IP', async () => (await rn.client.get<Service>({ ...SERVICES, name: 'web' })).status?.loadBalancer?.ingress?.[0]?.ip, 30_000);
    assert.equal(ip, `10.241.${n}.1`);
    const page = await waitFor(`curl http://${ip}/`, async () => {
      const r = await curlFromHost(`http://${ip}/`);
      return r.code === 0 && r.body;
    }, 30_000);
    assert.equal(page, 'hello from web');

    await rn.client.delete({ ...SERVICES, name: 'web' });
    await waitFor('web gone', async () => rn.client.get({ ...SERVICES, name: 'web' }).then(() => false, (e) => isNotFound(e)));
    assert.doesNotMatch(execFileSync('ip', ['-4', '-o', 'addr', 'show', 'dev', iface], { encoding: 'utf8' }), new RegExp(`inet ${ip.replace(/\./g, '\\.')}/`));
    // the pool's unreachable route: an IP of it nobody holds fails here, it never leaves the machine
    assert.equal((await curlFromHost(`http://${ip}/`)).code, 7);
  });
});
