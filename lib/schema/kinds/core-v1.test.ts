import assert from 'node:assert/strict';
import { CORE, META } from '../dsl.js';
import { allKinds, typeDef } from '../registry.js';
import type { Field, KindDef, Prop, TypeDef } from '../types.js';
import { translateAge } from '../printing.js';
import { validateObject } from '../validate.js';
import './core-v1.js';

const AUTHN = 'io.k8s.api.authentication.v1.';
const AUTOSCALING = 'io.k8s.api.autoscaling.v1.';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const ago = (seconds: number): string => new Date(NOW - seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

function kind(plural: string): KindDef {
  const k = allKinds().find((x) => x.group === '' && x.version === 'v1' && x.plural === plural);
  assert.ok(k, `kind ${plural} is registered`);
  return k;
}

/** The Table cells after NAME, as the apiserver would render them. */
function cells(plural: string, obj: any, wide = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of kind(plural).columns) if (wide || c.priority === 0) out[c.name] = c.value(obj, NOW);
  return out;
}

/** Field errors as the apiserver reports them: schema checks, then the kind's own; "path reason", sorted. */
function errorsOf(plural: string, obj: any, old?: any): string[] {
  const k = kind(plural);
  const errs = [...validateObject(obj, k.definition, { namespaced: k.namespaced }), ...(k.validate?.(obj, old) ?? [])];
  return errs.map((e) => `${e.field} ${e.reason}`).sort();
}

function refsOf(p: Prop): string[] {
  if (p.type === 'ref') return [p.ref];
  if (p.type === 'array') return refsOf(p.items);
  if (p.type === 'map') return refsOf(p.values);
  return [];
}

/** Every type reachable from the core/v1 kinds and the two subresource bodies. */
function reachableTypes(): TypeDef[] {
  const roots = [
    ...allKinds().filter((k) => k.group === '' && k.version === 'v1').map((k) => k.definition),
    AUTHN + 'TokenRequest',
    AUTOSCALING + 'Scale',
    CORE + 'Binding',
  ];
  const seen = new Map<string, TypeDef>();
  const queue = [...roots];
  while (queue.length) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    const def = typeDef(name);
    seen.set(name, def);
    for (const f of Object.values(def.fields)) queue.push(...refsOf(f));
  }
  return [...seen.values()];
}

const fieldOf = (type: string, name: string): Field => {
  const f = typeDef(type).fields[name];
  assert.ok(f, `${type}.${name} exists`);
  return f;
};

describe('core/v1 schema', () => {
  it('resolves every ref reachable from the core kinds, and each type has fields with docs', () => {
    const types = reachableTypes();
    assert.ok(types.length > 120, `expected the whole pod/node/service closure, got ${types.length} types`);
    for (const t of types) {
      assert.ok(t.description, `${t.name} has a description`);
      for (const [name, f] of Object.entries(t.fields)) assert.ok(f.description, `${t.name}.${name} has a description`);
    }
  });

  it('gives every field a unique protobuf number within its message (and embedded sub-message)', () => {
    for (const t of reachableTypes()) {
      const seen = new Map<string, string>();
      for (const [name, f] of Object.entries(t.fields)) {
        if (f.proto === 0) continue; // TypeMeta: not in protobuf
        const key = `${f.protoWrapper ?? 0}/${f.proto}`;
        assert.ok(!seen.has(key), `${t.name}: ${name} and ${seen.get(key)} share protobuf number ${key}`);
        seen.set(key, name);
      }
    }
  });

  it('uses the protobuf numbers of upstream generated.proto', () => {
    const expect: [string, string, number, number?][] = [
      [CORE + 'PodSpec', 'volumes', 1],
      [CORE + 'PodSpec', 'containers', 2],
      [CORE + 'PodSpec', 'initContainers', 20],
      [CORE + 'PodSpec', 'ephemeralContainers', 34],
      [CORE + 'PodSpec', 'nodeName', 10],
      [CORE + 'PodSpec', 'serviceAccountName', 8],
      [CORE + 'PodSpec', 'tolerations', 22],
      [CORE + 'PodSpec', 'topologySpreadConstraints', 33],
      [CORE + 'Container', 'envFrom', 19],
      [CORE + 'Container', 'startupProbe', 22],
      [CORE + 'Container', 'resources', 8],
      [CORE + 'ContainerPort', 'containerPort', 3],
      [CORE + 'PodStatus', 'podIPs', 12],
      [CORE + 'PodStatus', 'containerStatuses', 8],
      [CORE + 'ContainerStatus', 'lastState', 3],
      [CORE + 'ContainerStateTerminated', 'finishedAt', 6],
      [CORE + 'Volume', 'configMap', 19, 2],
      [CORE + 'Volume', 'projected', 26, 2],
      [CORE + 'Probe', 'httpGet', 2, 1],
      [CORE + 'Probe', 'periodSeconds', 4],
      [CORE + 'EphemeralContainer', 'image', 2, 1],
      [CORE + 'EphemeralContainer', 'targetContainerName', 2],
      [CORE + 'ConfigMapKeySelector', 'name', 1, 1],
      [CORE + 'ConfigMap', 'data', 2],
      [CORE + 'ConfigMap', 'binaryData', 3],
      [CORE + 'ConfigMap', 'immutable', 4],
      [CORE + 'Secret', 'data', 2],
      [CORE + 'Secret', 'type', 3],
      [CORE + 'Secret', 'stringData', 4],
      [CORE + 'ServiceAccount', 'automountServiceAccountToken', 4],
      [CORE + 'ServiceSpec', 'clusterIPs', 18],
      [CORE + 'ServiceSpec', 'type', 4],
      [CORE + 'ServicePort', 'targetPort', 4],
      [CORE + 'ServicePort', 'appProtocol', 6],
      [CORE + 'NamespaceSpec', 'finalizers', 1],
      [CORE + 'NodeStatus', 'nodeInfo', 7],
      [CORE + 'Event', 'reportingComponent', 14],
      [AUTHN + 'TokenRequestSpec', 'expirationSeconds', 4],
      [AUTHN + 'TokenRequestSpec', 'boundObjectRef', 3],
      [AUTOSCALING + 'ScaleStatus', 'selector', 2],
      [META + 'Condition', 'lastTransitionTime', 4],
    ];
    for (const [type, name, proto, wrapper] of expect) {
      const f = fieldOf(type, name);
      assert.equal(f.proto, proto, `${type}.${name} proto`);
      assert.equal(f.protoWrapper, wrapper, `${type}.${name} protoWrapper`);
    }
    assert.equal(fieldOf(CORE + 'Pod', 'metadata').proto, 1);
    assert.equal(fieldOf(CORE + 'Secret', 'data').type, 'map');
    assert.deepEqual((fieldOf(CORE + 'Secret', 'data') as any).values, { type: 'bytes' });
  });

  it('carries the upstream strategic-merge keys and list types', () => {
    const merge = (type: string, name: string) => {
      const f = fieldOf(type, name);
      return [f.mergeKey, f.strategy, f.listType];
    };
    assert.deepEqual(merge(CORE + 'PodSpec', 'containers'), ['name', 'merge', 'map']);
    assert.deepEqual(merge(CORE + 'PodSpec', 'volumes'), ['name', 'merge,retainKeys', 'map']);
    assert.deepEqual(merge(CORE + 'PodSpec', 'imagePullSecrets'), ['name', 'merge', 'map']);
    assert.deepEqual(merge(CORE + 'PodSpec', 'tolerations'), [undefined, undefined, 'atomic']);
    assert.deepEqual(merge(CORE + 'Container', 'env'), ['name', 'merge', 'map']);
    assert.deepEqual(merge(CORE + 'Container', 'volumeMounts'), ['mountPath', 'merge', 'map']);
    assert.deepEqual(merge(CORE + 'Container', 'ports'), ['containerPort', 'merge', 'map']);
    assert.deepEqual(fieldOf(CORE + 'Container', 'ports').listMapKeys, ['containerPort', 'protocol']);
    assert.deepEqual(merge(CORE + 'ServiceSpec', 'ports'), ['port', 'merge', 'map']);
    assert.deepEqual(merge(CORE + 'PodStatus', 'conditions'), ['type', 'merge', 'map']);
    assert.deepEqual(merge(CORE + 'NodeStatus', 'addresses'), ['type', 'merge', 'map']);
    assert.equal(fieldOf(CORE + 'PodSpec', 'containers').required, true);
    assert.equal(fieldOf(CORE + 'Container', 'name').required, true);
    assert.equal(fieldOf(CORE + 'Container', 'image').required, undefined);
    assert.equal(fieldOf(CORE + 'ContainerPort', 'protocol').default, 'TCP');
    assert.equal(fieldOf(CORE + 'PodSpec', 'terminationGracePeriodSeconds').default, 30);
  });

  it('registers the kinds with upstream names, scopes, subresources', () => {
    const summary = (p: string) => {
      const k = kind(p);
      return [k.kind, k.singular, k.shortNames ?? [], k.namespaced, k.categories ?? []];
    };
    assert.deepEqual(summary('pods'), ['Pod', 'pod', ['po'], true, ['all']]);
    assert.deepEqual(summary('nodes'), ['Node', 'node', ['no'], false, []]);
    assert.deepEqual(summary('namespaces'), ['Namespace', 'namespace', ['ns'], false, []]);
    assert.deepEqual(summary('services'), ['Service', 'service', ['svc'], true, ['all']]);
    assert.deepEqual(summary('endpoints'), ['Endpoints', 'endpoints', ['ep'], true, []]);
    assert.deepEqual(summary('configmaps'), ['ConfigMap', 'configmap', ['cm'], true, []]);
    assert.deepEqual(summary('secrets'), ['Secret', 'secret', [], true, []]);
    assert.deepEqual(summary('serviceaccounts'), ['ServiceAccount', 'serviceaccount', ['sa'], true, []]);
    assert.deepEqual(summary('events'), ['Event', 'event', ['ev'], true, []]);
    assert.deepEqual(kind('pods').subresources, ['status', 'binding', 'log', 'eviction', 'exec', 'attach', 'portforward']);
    assert.deepEqual(kind('namespaces').subresources, ['status', 'finalize']);
    assert.deepEqual(kind('serviceaccounts').subresources, ['token']);
    for (const k of allKinds().filter((x) => x.group === '')) assert.notEqual(k.generation, true, `${k.plural} bumps no generation`);
  });
});

describe('translateAge (upstream HumanDuration)', () => {
  it('formats durations as kubectl shows them', () => {
    const table: [number, string][] = [
      [0, '0s'],
      [-1, '0s'],
      [-3, '<invalid>'],
      [5, '5s'],
      [119, '119s'],
      [182, '3m2s'],
      [300, '5m'],
      [599, '9m59s'],
      [600, '10m'],
      [179 * 60, '179m'],
      [4 * 3600, '4h'],
      [4 * 3600 + 30 * 60, '4h30m'],
      [8 * 3600 + 59 * 60, '8h'],
      [47 * 3600, '47h'],
      [2 * 86400 + 3 * 3600, '2d3h'],
      [7 * 86400, '7d'],
      [30 * 86400, '30d'],
      [800 * 86400, '2y70d'],
      [9 * 365 * 86400, '9y'],
    ];
    for (const [seconds, want] of table) assert.equal(translateAge(ago(seconds), NOW), want, `${seconds}s`);
    assert.equal(translateAge(undefined, NOW), '<unknown>');
    assert.equal(translateAge('not a time', NOW), '<unknown>');
  });
});

function pod(over: { spec?: any; status?: any; metadata?: any } = {}): any {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'default', creationTimestamp: ago(600), ...over.metadata },
    spec: { containers: [{ name: 'web', image: 'nginx:1.25' }], ...over.spec },
    status: over.status ?? {},
  };
}

const running = (name: string, restartCount = 0) => ({ name, ready: true, restartCount, state: { running: { startedAt: ago(300) } } });

describe('core/v1 printer columns', () => {
  it('prints a running pod as 1/1 Running, with the wide columns', () => {
    const p = pod({
      spec: { nodeName: 'node-a' },
      status: { phase: 'Running', podIP: '127.1.0.5', podIPs: [{ ip: '127.1.0.5' }], containerStatuses: [running('web')] },
    });
    assert.deepEqual(cells('pods', p, true), {
      Ready: '1/1',
      Status: 'Running',
      Restarts: '0',
      Age: '10m',
      IP: '127.1.0.5',
      Node: 'node-a',
      'Nominated Node': '<none>',
      'Readiness Gates': '<none>',
    });
    assert.deepEqual(cells('pods', pod(), true), {
      Ready: '0/1', Status: '', Restarts: '0', Age: '10m', IP: '<none>', Node: '<none>', 'Nominated Node': '<none>', 'Readiness Gates': '<none>',
    });
  });

  it('prints CrashLoopBackOff with restarts and the time of the last restart', () => {
    const p = pod({
      spec: { containers: [{ name: 'web', image: 'nginx' }, { name: 'side', image: 'busybox' }] },
      status: {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'web',
            ready: false,
            restartCount: 5,
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 2m40s' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(125) } },
          },
          running('side', 1),
        ],
      },
    });
    assert.deepEqual(cells('pods', p), { Ready: '1/2', Status: 'CrashLoopBackOff', Restarts: '6 (2m5s ago)', Age: '10m' });
  });

  it('prints Terminating for a deleted pod that has not finished, and Completed for a finished one', () => {
    const terminating = pod({
      metadata: { deletionTimestamp: ago(-30) },
      status: { phase: 'Running', containerStatuses: [running('web')] },
    });
    assert.equal(cells('pods', terminating).Status, 'Terminating');
    const lost = pod({ metadata: { deletionTimestamp: ago(0) }, status: { phase: 'Running', reason: 'NodeLost' } });
    assert.equal(cells('pods', lost).Status, 'Unknown');
    const completed = pod({
      status: { phase: 'Succeeded', containerStatuses: [{ name: 'web', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] },
    });
    assert.deepEqual(cells('pods', completed), { Ready: '0/1', Status: 'Completed', Restarts: '0', Age: '10m' });
    const exited = pod({ status: { phase: 'Failed', containerStatuses: [{ name: 'web', state: { terminated: { exitCode: 137, signal: 9 } } }] } });
    assert.equal(cells('pods', exited).Status, 'Signal:9');
  });

  it('prints init container progress, sidecars and readiness gates as upstream', () => {
    const initializing = pod({
      spec: { initContainers: [{ name: 'migrate', image: 'm' }, { name: 'seed', image: 's' }] },
      status: {
        phase: 'Pending',
        initContainerStatuses: [{ name: 'migrate', state: { running: { startedAt: ago(5) } } }, { name: 'seed', state: { waiting: { reason: 'PodInitializing' } } }],
        containerStatuses: [{ name: 'web', state: { waiting: { reason: 'PodInitializing' } } }],
      },
    });
    assert.equal(cells('pods', initializing).Status, 'Init:0/2');
    const initCrash = pod({
      spec: { initContainers: [{ name: 'migrate', image: 'm' }] },
      status: { phase: 'Pending', initContainerStatuses: [{ name: 'migrate', restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
    });
    assert.deepEqual(cells('pods', initCrash), { Ready: '0/1', Status: 'Init:CrashLoopBackOff', Restarts: '3', Age: '10m' });
    const withSidecar = pod({
      spec: { initContainers: [{ name: 'proxy', image: 'envoy', restartPolicy: 'Always' }], readinessGates: [{ conditionType: 'example.com/lb' }] },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Initialized', status: 'True' }, { type: 'example.com/lb', status: 'False' }],
        initContainerStatuses: [{ name: 'proxy', ready: true, started: true, restartCount: 0, state: { running: {} } }],
        containerStatuses: [running('web')],
      },
    });
    const c = cells('pods', withSidecar, true);
    assert.equal(c.Ready, '2/2');
    assert.equal(c.Status, 'Running');
    assert.equal(c['Readiness Gates'], '0/1');
  });

  it('prints services with type, cluster IP, external IP and ports', () => {
    const svc = {
      metadata: { name: 'web', creationTimestamp: ago(3 * 86400 + 3600) },
      spec: {
        type: 'ClusterIP',
        clusterIP: '10.96.0.10',
        clusterIPs: ['10.96.0.10'],
        selector: { tier: 'front', app: 'web' },
        ports: [{ port: 80, protocol: 'TCP' }, { port: 443, protocol: 'TCP' }],
      },
    };
    assert.deepEqual(cells('services', svc, true), {
      Type: 'ClusterIP',
      'Cluster-IP': '10.96.0.10',
      'External-IP': '<none>',
      'Port(s)': '80/TCP,443/TCP',
      Age: '3d1h',
      Selector: 'app=web,tier=front',
    });
    const lb = { metadata: {}, spec: { type: 'LoadBalancer', clusterIPs: ['10.96.0.11'], ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] } };
    assert.equal(cells('services', lb)['External-IP'], '<pending>');
    assert.equal(cells('services', lb)['Port(s)'], '80:30080/TCP');
    const ext = { metadata: {}, spec: { type: 'ExternalName', externalName: 'db.example.com' } };
    assert.deepEqual([cells('services', ext)['External-IP'], cells('services', ext)['Cluster-IP'], cells('services', ext)['Port(s)']], ['db.example.com', '<none>', '<none>']);
  });

  it('prints nodes with status, roles and version, and the wide system info', () => {
    const node = {
      metadata: { name: 'cp-1', creationTimestamp: ago(86400 * 10), labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/hostname': 'cp-1' } },
      spec: {},
      status: {
        conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }],
        addresses: [{ type: 'Hostname', address: 'cp-1' }, { type: 'InternalIP', address: '127.0.0.2' }],
        nodeInfo: { kubeletVersion: 'v1.33.0', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0-18-amd64', containerRuntimeVersion: 'flotilla://0.1.0' },
      },
    };
    assert.deepEqual(cells('nodes', node, true), {
      Status: 'Ready',
      Roles: 'control-plane',
      Age: '10d',
      Version: 'v1.33.0',
      'Internal-IP': '127.0.0.2',
      'External-IP': '<none>',
      'OS-Image': 'Debian GNU/Linux 12 (bookworm)',
      'Kernel-Version': '6.1.0-18-amd64',
      'Container-Runtime': 'flotilla://0.1.0',
    });
    const cordoned = { metadata: { labels: { 'kubernetes.io/role': 'worker', 'node-role.kubernetes.io/infra': '' } }, spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } };
    assert.deepEqual([cells('nodes', cordoned).Status, cells('nodes', cordoned).Roles], ['NotReady,SchedulingDisabled', 'infra,worker']);
    assert.deepEqual([cells('nodes', { metadata: {}, status: {} }).Status, cells('nodes', { metadata: {} }).Roles], ['Unknown', '<none>']);
  });

  it('prints namespaces, configmaps, secrets, service accounts and endpoints', () => {
    const meta = { name: 'x', creationTimestamp: ago(45) };
    assert.deepEqual(cells('namespaces', { metadata: meta, status: { phase: 'Active' } }), { Status: 'Active', Age: '45s' });
    assert.deepEqual(cells('configmaps', { metadata: meta, data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }), { Data: 3, Age: '45s' });
    assert.deepEqual(cells('secrets', { metadata: meta, type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==', 'tls.key': 'eQ==' } }), { Type: 'kubernetes.io/tls', Data: 2, Age: '45s' });
    assert.deepEqual(cells('serviceaccounts', { metadata: meta }), { Secrets: 0, Age: '45s' });
    const ep = {
      metadata: meta,
      subsets: [{ addresses: [{ ip: '127.1.0.1' }, { ip: '127.1.0.2' }], ports: [{ port: 8080 }, { port: 9090 }] }],
    };
    assert.equal(cells('endpoints', ep).Endpoints, '127.1.0.1:8080,127.1.0.2:8080,127.1.0.1:9090 + 1 more...');
    assert.equal(cells('endpoints', { metadata: meta }).Endpoints, '<none>');
  });

  it('prints events with the upstream column order, the name last and wide only', () => {
    const names = kind('events').columns.map((c) => `${c.name}${c.priority ? '*' : ''}`);
    assert.deepEqual(names, ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject*', 'Source*', 'Message', 'First Seen*', 'Count*', 'Name*']);
    assert.equal(kind('events').columns.at(-1)!.format, 'name');
    const ev = {
      metadata: { name: 'web-1.17f', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', fieldPath: 'spec.containers{web}' },
      reason: 'Pulled',
      message: 'Container image "nginx" already present on machine\n',
      source: { component: 'kubelet', host: 'node-a' },
      firstTimestamp: ago(3600),
      lastTimestamp: ago(65),
      count: 4,
      type: 'Normal',
    };
    assert.deepEqual(cells('events', ev, true), {
      'Last Seen': '65s',
      Type: 'Normal',
      Reason: 'Pulled',
      Object: 'pod/web-1',
      Subobject: 'spec.containers{web}',
      Source: 'kubelet, node-a',
      Message: 'Container image "nginx" already present on machine',
      'First Seen': '60m',
      Count: 4,
      Name: 'web-1.17f',
    });
    const series = { metadata: { name: 'e' }, involvedObject: { kind: 'Node' }, eventTime: new Date(NOW - 7200_000).toISOString(), series: { count: 9, lastObservedTime: ago(10) }, reportingComponent: 'scheduler' };
    const c = cells('events', series, true);
    assert.deepEqual([c['Last Seen'], c['First Seen'], c.Count, c.Object, c.Source], ['10s', '120m', 9, 'node', 'scheduler']);
  });
});

describe('core/v1 defaults and validation', () => {
  it('defaults a pod as upstream: spec, containers, probes, ports and pull policy', () => {
    const p = pod({
      spec: {
        containers: [
          { name: 'web', image: 'nginx', ports: [{ containerPort: 80 }], livenessProbe: { httpGet: { port: 80 } }, resources: { limits: { cpu: '1' } } },
          { name: 'db', image: 'postgres:16' },
          { name: 'pinned', image: 'registry.local:5000/app@sha256:abcd' },
        ],
      },
    });
    kind('pods').defaults!(p);
    assert.equal(p.spec.restartPolicy, 'Always');
    assert.equal(p.spec.dnsPolicy, 'ClusterFirst');
    assert.equal(p.spec.schedulerName, 'default-scheduler');
    assert.equal(p.spec.terminationGracePeriodSeconds, 30);
    assert.deepEqual(p.spec.securityContext, {});
    const [web, db, pinned] = p.spec.containers;
    assert.deepEqual([web.imagePullPolicy, db.imagePullPolicy, pinned.imagePullPolicy], ['Always', 'IfNotPresent', 'IfNotPresent']);
    assert.equal(web.terminationMessagePath, '/dev/termination-log');
    assert.equal(web.terminationMessagePolicy, 'File');
    assert.equal(web.ports[0].protocol, 'TCP');
    assert.deepEqual(web.livenessProbe, { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
    assert.deepEqual(web.resources.requests, { cpu: '1' });
  });

  it('reports bad pods with upstream field paths and reasons', () => {
    const v = (spec: any) => errorsOf('pods', pod({ spec }));
    assert.deepEqual(errorsOf('pods', { metadata: { name: 'x', namespace: 'default' }, spec: {} }), ['spec.containers FieldValueRequired']);
    assert.deepEqual(v({ containers: [] }), ['spec.containers FieldValueRequired']);
    assert.deepEqual(v({ containers: [{ name: 'web' }] }), ['spec.containers[0].image FieldValueRequired']);
    assert.deepEqual(v({ containers: [{ name: 'Web_1', image: 'x' }] }), ['spec.containers[0].name FieldValueInvalid']);
    assert.deepEqual(v({ initContainers: [{ name: 'a', image: 'x' }], containers: [{ name: 'a', image: 'x' }, { image: 'y' }] }), [
      'spec.containers[0].name FieldValueDuplicate',
      'spec.containers[1].name FieldValueRequired',
    ]);
    assert.deepEqual(v({ restartPolicy: 'Sometimes', containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 70000, protocol: 'HTTP' }] }] }), [
      'spec.containers[0].ports[0].containerPort FieldValueInvalid',
      'spec.containers[0].ports[0].protocol FieldValueNotSupported',
      'spec.restartPolicy FieldValueNotSupported',
    ]);
    assert.deepEqual(v({ containers: [{ name: 'a', image: 'x', volumeMounts: [{ name: 'data', mountPath: '/d' }] }] }), ['spec.containers[0].volumeMounts[0].name FieldValueNotFound']);
    assert.deepEqual(v({ containers: [{ name: 'a', image: 'x', env: [{ value: '1' }], ports: [{ name: 'http' }] }] }), [
      'spec.containers[0].env[0].name FieldValueRequired',
      'spec.containers[0].ports[0].containerPort FieldValueRequired',
    ]);
    const [err] = kind('pods').validate!(pod({ spec: { containers: [{ name: 'web', image: 'x' }], restartPolicy: 'Sometimes' } }));
    assert.equal(err.message, 'Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"');
  });

  it('accepts pod and node status as a kubelet writes it, images not yet resolved', () => {
    const p = pod({
      spec: { nodeName: 'node-a' },
      status: {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: ago(5) }],
        containerStatuses: [{ name: 'web', image: 'nginx:1.25', imageID: '', ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'ContainerCreating' } } }],
      },
    });
    kind('pods').defaults!(p);
    assert.deepEqual(errorsOf('pods', p), []);
    const node = {
      metadata: { name: 'hollow-1' },
      status: {
        capacity: { cpu: '4', memory: '8Gi', pods: '110' },
        conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: ago(1), lastTransitionTime: ago(60), reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
        nodeInfo: { kubeletVersion: 'v1.33.0', operatingSystem: 'linux', architecture: 'amd64' },
      },
    };
    kind('nodes').defaults!(node);
    assert.deepEqual((node.status as any).allocatable, node.status.capacity);
    assert.deepEqual(errorsOf('nodes', node), []);
    assert.equal(fieldOf(AUTHN + 'TokenRequestSpec', 'audiences').required, undefined, 'kubectl create token may send no audiences');
  });

  it('forbids pod spec updates other than the upstream mutable fields', () => {
    const old = pod({ spec: { containers: [{ name: 'web', image: 'nginx:1.25', command: ['nginx'] }] } });
    const newImage = pod({ spec: { containers: [{ name: 'web', image: 'nginx:1.26', command: ['nginx'] }], nodeName: 'node-a' } });
    assert.deepEqual(kind('pods').validate!(newImage, old), []);
    const newCommand = pod({ spec: { containers: [{ name: 'web', image: 'nginx:1.25', command: ['sh'] }] } });
    assert.deepEqual(kind('pods').validate!(newCommand, old).map((e) => `${e.field} ${e.reason}`), ['spec FieldValueForbidden']);
  });

  it('validates and defaults services', () => {
    const v = (spec: any) => errorsOf('services', { metadata: { name: 's', namespace: 'default' }, spec });
    assert.deepEqual(v({ ports: [] }), ['spec.ports FieldValueRequired']);
    assert.deepEqual(v({ clusterIP: 'None' }), []);
    assert.deepEqual(v({ type: 'ExternalName', externalName: 'db.example.com' }), []);
    assert.deepEqual(v({ type: 'Magic', ports: [{ port: 0 }, { name: 'b', port: 80, nodePort: 30000 }, { name: 'c' }] }), [
      'spec.ports[0].name FieldValueRequired',
      'spec.ports[0].port FieldValueInvalid',
      'spec.ports[2].port FieldValueRequired',
      'spec.type FieldValueNotSupported',
    ]);
    assert.deepEqual(v({ type: 'ClusterIP', ports: [{ port: 80, nodePort: 30000 }] }), ['spec.ports[0].nodePort FieldValueForbidden']);
    // headless only as ClusterIP; ExternalName holds no IP and names a DNS subdomain
    assert.deepEqual(v({ type: 'NodePort', clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 80 }] }), ['spec.clusterIPs[0] FieldValueInvalid']);
    assert.deepEqual(v({ type: 'ExternalName', externalName: 'Not_A_Name', clusterIP: '10.96.0.9', ipFamilyPolicy: 'SingleStack' }), [
      'spec.clusterIP FieldValueForbidden',
      'spec.externalName FieldValueInvalid',
      'spec.ipFamilyPolicy FieldValueForbidden',
    ]);
    assert.deepEqual(v({ type: 'ExternalName', externalName: 'db.example.com.' }), []);
    // clusterIPs mirror clusterIP and hold IPs
    assert.deepEqual(v({ clusterIP: '10.96.0.9', clusterIPs: ['10.96.0.8'], ports: [{ port: 80 }] }), ['spec.clusterIPs FieldValueInvalid']);
    assert.deepEqual(v({ clusterIP: '10.96.0.300', clusterIPs: ['10.96.0.300'], ports: [{ port: 80 }] }), ['spec.clusterIPs[0] FieldValueInvalid']);
    // traffic policies and their ports by type
    assert.deepEqual(v({ externalTrafficPolicy: 'Local', ports: [{ port: 80 }] }), ['spec.externalTrafficPolicy FieldValueInvalid']);
    assert.deepEqual(v({ type: 'NodePort', externalTrafficPolicy: 'Local', healthCheckNodePort: 30001, ports: [{ port: 80 }] }), ['spec.healthCheckNodePort FieldValueInvalid']);
    assert.deepEqual(v({ allocateLoadBalancerNodePorts: true, internalTrafficPolicy: 'Nearby', ports: [{ port: 80 }] }), [
      'spec.allocateLoadBalancerNodePorts FieldValueForbidden',
      'spec.internalTrafficPolicy FieldValueNotSupported',
    ]);
    assert.deepEqual(v({ type: 'LoadBalancer', ports: [{ port: 10250 }] }), ['spec.ports[0] FieldValueInvalid']);
    const svc: any = { metadata: { name: 's' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } };
    kind('services').defaults!(svc);
    assert.deepEqual(svc.spec.ports[0], { port: 80, protocol: 'TCP', targetPort: 80 });
    assert.deepEqual([svc.spec.sessionAffinity, svc.spec.externalTrafficPolicy, svc.spec.internalTrafficPolicy], ['None', 'Cluster', 'Cluster']);
    const plain: any = { metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } };
    kind('services').defaults!(plain);
    assert.equal(plain.spec.type, 'ClusterIP');
  });

  it('validates configmap and secret keys, folds stringData, and keeps immutable data', () => {
    const cmErrs = errorsOf('configmaps', { metadata: { name: 'c', namespace: 'default' }, data: { 'good.key': '1', 'bad key': '2' }, binaryData: { 'good.key': 'AA==' } });
    assert.deepEqual(cmErrs, ['binaryData[good.key] FieldValueInvalid', 'data[bad key] FieldValueInvalid']);
    const secret: any = { metadata: { name: 's' }, stringData: { password: 'hunter2' } };
    kind('secrets').defaults!(secret);
    assert.deepEqual([secret.type, secret.data, secret.stringData], ['Opaque', { password: 'aHVudGVyMg==' }, undefined]);
    assert.deepEqual(errorsOf('secrets', { metadata: { name: 't', namespace: 'default' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==' } }), ['data[tls.key] FieldValueRequired']);
    const old = { metadata: { name: 'c' }, immutable: true, data: { a: '1' } };
    const changed = kind('configmaps').validate!({ metadata: { name: 'c' }, immutable: true, data: { a: '2' } }, old);
    assert.deepEqual(changed.map((e) => `${e.field} ${e.reason}`), ['data FieldValueForbidden']);
  });

  it('selects pods, nodes, namespaces, secrets and events by the upstream field selectors', () => {
    const sel = (plural: string, path: string, obj: any) => kind(plural).fieldSelectors![path](obj);
    assert.equal(sel('pods', 'spec.nodeName', pod()), '');
    assert.equal(sel('pods', 'spec.nodeName', pod({ spec: { nodeName: 'n1' } })), 'n1');
    assert.equal(sel('pods', 'status.phase', pod({ status: { phase: 'Running' } })), 'Running');
    assert.equal(sel('nodes', 'spec.unschedulable', { spec: {} }), 'false');
    assert.equal(sel('secrets', 'type', { type: 'Opaque' }), 'Opaque');
    assert.equal(sel('events', 'involvedObject.name', { involvedObject: { name: 'web-1' } }), 'web-1');
    assert.equal(sel('events', 'source', { source: { component: 'kubelet' } }), 'kubelet');
    const ns: any = { metadata: { name: 'dev' } };
    kind('namespaces').defaults!(ns);
    assert.equal(sel('namespaces', 'status.phase', ns), 'Active');
  });
});
