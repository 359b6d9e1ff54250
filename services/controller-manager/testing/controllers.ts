/**
 * Controller tests' setup: an apiserver on a nats-server of the suite's own with a
 * controller manager running only the controllers under test, or one controller the test
 * builds itself (with its own options, e.g. a clock) running against a given apiserver;
 * and the objects several controller tests create.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { ReplicaSet, ReplicaSetSpec } from 'kubernetes-types/apps/v1.js';
import { ApiClient, connectNats, EventRecorder, SharedInformerFactory } from '../../../lib/client/mod.js';
import type { Controller, ControllerContext } from '../../../lib/controller/mod.js';
import { startControllerManager, type RunningControllerManager } from '../server.js';
import { testApiServer } from '../../../test/apiserver.js';
import { freshNats } from '../../../test/harness.js';

export interface ControllerTestCluster {
  natsUrl: string;
  server: Awaited<ReturnType<typeof testApiServer>>;
  /** the test's own connection (not the controller manager's) */
  nc: NatsConnection;
  client: ApiClient;
  cm: RunningControllerManager;
  /** Stops the controller manager, then the test's client and the apiserver. */
  stop(): Promise<void>;
}

/** A controller manager on natsUrl running only `controllers`, without leader election. */
export function startControllers(natsUrl: string, controllers: string[]): Promise<RunningControllerManager> {
  return startControllerManager({ natsUrl, port: 0, leaderElect: false, controllers, log: () => undefined });
}

/**
 * A fresh nats-server, an apiserver on it, a client connected as `name`, and a controller
 * manager running `controllers`, started after `beforeControllers` (objects the controllers
 * should find in their first list). What started is stopped again when a later step fails.
 */
export async function startControllerCluster(
  name: string,
  controllers: string[],
  beforeControllers?: (client: ApiClient) => Promise<unknown>,
): Promise<ControllerTestCluster> {
  const natsUrl = (await freshNats()).url;
  const server = await testApiServer({ natsUrl });
  let nc: NatsConnection | undefined;
  let client: ApiClient | undefined;
  const stopClient = async () => {
    client?.close();
    await nc?.close();
    await server.stop();
  };
  try {
    nc = await connectNats(natsUrl, { name });
    client = new ApiClient(nc);
    await beforeControllers?.(client);
    const cm = await startControllers(natsUrl, controllers);
    return {
      natsUrl,
      server,
      nc,
      client,
      cm,
      async stop() {
        await cm.stop();
        await stopClient();
      },
    };
  } catch (e) {
    await stopClient();
    throw e;
  }
}

interface TestControllerContext {
  ctx: ControllerContext;
  /** Stops every event recorder the controller asked for (after the controller stops). */
  stopRecorders(): Promise<void>;
}

/** A ControllerContext over client and informers that keeps its event recorders to stop them. */
function testControllerContext(client: ApiClient, informers: SharedInformerFactory): TestControllerContext {
  const recorders: EventRecorder[] = [];
  const ctx: ControllerContext = {
    client,
    informers,
    log: () => {},
    recorder: (component) => {
      const r = new EventRecorder({ client, reportingController: component, reportingInstance: `${component}-test` });
      recorders.push(r);
      return r;
    },
  };
  return {
    ctx,
    async stopRecorders() {
      await Promise.all(recorders.map((r) => r.stop()));
    },
  };
}

export interface RunningTestController<C extends Controller> {
  nc: NatsConnection;
  client: ApiClient;
  informers: SharedInformerFactory;
  controller: C;
  /** Stops the controller and its workers, its event recorders, the informers and the client. */
  stop(): Promise<void>;
}

/**
 * Connects to natsUrl as `name`, builds the controller on a fresh informer factory, starts
 * the informers and runs `workers` workers.
 */
export async function runTestController<C extends Controller>(
  natsUrl: string,
  name: string,
  workers: number,
  build: (ctx: ControllerContext) => C,
): Promise<RunningTestController<C>> {
  const nc = await connectNats(natsUrl, { name });
  const client = new ApiClient(nc);
  const informers = new SharedInformerFactory(client);
  const context = testControllerContext(client, informers);
  const controller = build(context.ctx);
  const abort = new AbortController();
  informers.start();
  const running = controller.run(workers, abort.signal);
  return {
    nc,
    client,
    informers,
    controller,
    async stop() {
      abort.abort();
      await controller.stop();
      await running;
      await context.stopRecorders();
      await informers.stop();
      client.close();
      await nc.close();
    },
  };
}

/** A ReplicaSet in `default` of nginx pods selected by app=<name>; `podLabels` are added to the template's. */
export function testReplicaSet(name: string, replicas: number, o: { podLabels?: Record<string, string>; spec?: Partial<ReplicaSetSpec> } = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name, ...o.podLabels } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      ...o.spec,
    },
  };
}
