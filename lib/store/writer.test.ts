import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { sharedNats } from '../../test/harness.js';
import { KvStore } from './kvstore.js';
import { ackSequence, plainAckHead } from './writer.js';

const bytes = (s: string) => Buffer.from(s);
const HEAD = plainAckHead('KV_flotilla');

describe('BucketWriter acknowledgements', () => {
  it('reads the sequence of a plain acknowledgement off its bytes', () => {
    assert.equal(ackSequence(bytes('{"stream":"KV_flotilla", "seq":1}'), HEAD), 1);
    assert.equal(ackSequence(bytes('{"stream":"KV_flotilla", "seq":9007199254740991}'), HEAD), Number.MAX_SAFE_INTEGER);
  });

  it('leaves every other acknowledgement to the parser', () => {
    for (const other of [
      '',
      '{"stream":"KV_flotilla", "seq":}',
      '{"stream":"KV_flotilla", "seq":12,"duplicate":true}',
      '{"stream":"KV_flotilla", "seq":12,"domain":"hub"}',
      '{"stream":"KV_other", "seq":12}',
      '{"stream":"KV_flotilla", "seq":-1}',
      '{"stream":"KV_flotilla", "seq":1.5}',
      '{"stream":"KV_flotilla", "seq":12} ',
      '{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 3"},"stream":"KV_flotilla", "seq":0}',
    ]) {
      assert.equal(ackSequence(bytes(other), HEAD), -1, other);
    }
  });

  describe('against a real nats-server', () => {
    let nc: NatsConnection;
    let store: KvStore;

    before(async () => {
      nc = await connect({ servers: (await sharedNats()).url });
      store = await KvStore.open(nc, { bucket: `writer-acks-${process.pid}` });
    });

    after(async () => {
      await store.jsm.streams.delete(`KV_${store.bucket}`).catch(() => undefined);
      await nc.close();
    });

    it('resolves each write to the revision the store gave it, as read back', async () => {
      const revisions = await Promise.all(Array.from({ length: 50 }, (_, i) => store.create(`pods.default.p${i}`, bytes(`{"i":${i}}`))));
      for (let i = 0; i < 50; i++) {
        const got = await store.get(`pods.default.p${i}`);
        assert.equal(got?.revision, revisions[i], `p${i}`);
      }
      assert.equal(new Set(revisions).size, 50);
    });

    it('meets this nats-server\'s acknowledgements in the form the fast path reads', async () => {
      const m = await nc.request(`$KV.${store.bucket}.pods.default.raw`, bytes('{}'));
      const seq = ackSequence(m.data, plainAckHead(store.streamName));
      assert.ok(seq > 0, Buffer.from(m.data).toString());
      assert.equal(seq, JSON.parse(Buffer.from(m.data).toString()).seq);
    });
  });
});
