import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { configMapPayload } from './configmap.js';
import { downwardAPIPayload, formatMap } from './downwardapi.js';
import { secretPayload } from './secret.js';

const text = (p: Map<string, { data: Buffer; mode: number }>) => Object.fromEntries([...p].map(([k, v]) => [k, [v.data.toString(), v.mode.toString(8)]]));

describe('kubelet volumes: payloads', () => {
  it('configMap: every key with defaultMode, or the items at their paths and modes', () => {
    const cm = { data: { a: '1', b: '2' }, binaryData: { bin: Buffer.from('\x00\x01').toString('base64') } };
    assert.deepEqual(text(configMapPayload(cm, undefined, undefined, false)), { a: ['1', '644'], b: ['2', '644'], bin: ['\x00\x01', '644'] });
    assert.deepEqual(text(configMapPayload(cm, [{ key: 'a', path: 'dir/x' }, { key: 'b', path: 'y', mode: 0o400 }], 0o600, false)), { 'dir/x': ['1', '600'], y: ['2', '400'] });
    assert.throws(() => configMapPayload(cm, [{ key: 'nope', path: 'z' }], undefined, false), /configmap references non-existent config key: nope/);
    assert.deepEqual(text(configMapPayload(cm, [{ key: 'nope', path: 'z' }], undefined, true)), {});
    assert.deepEqual(text(configMapPayload(undefined, undefined, undefined, true)), {});
  });

  it('secret: decoded keys', () => {
    const s = { data: { user: Buffer.from('admin').toString('base64') } };
    assert.deepEqual(text(secretPayload(s, undefined, 0o400, false)), { user: ['admin', '400'] });
    assert.throws(() => secretPayload(s, [{ key: 'pw', path: 'pw' }], undefined, false), /references non-existent secret key: pw/);
  });

  it('downwardAPI: fields, labels as sorted k="v" lines, resources with divisor', () => {
    const pod: Pod = {
      metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { zone: 'b', app: 'web "x"' }, annotations: { note: 'hi' } },
      spec: { containers: [{ name: 'c', resources: { limits: { memory: '32Mi' } } }] },
    };
    const p = downwardAPIPayload(
      pod,
      [
        { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
        { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
        { path: 'zone', fieldRef: { fieldPath: "metadata.labels['zone']" }, mode: 0o400 },
        { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } },
        { path: 'cpu', resourceFieldRef: { containerName: 'c', resource: 'limits.cpu', divisor: '1m' } },
      ],
      undefined,
      { cpu: '2', memory: '1Gi' },
    );
    assert.deepEqual(text(p), { name: ['p', '644'], labels: ['app="web \\"x\\""\nzone="b"', '644'], zone: ['b', '400'], mem: ['32', '644'], cpu: ['2000', '644'] });
    assert.equal(formatMap({}), '');
  });
});
