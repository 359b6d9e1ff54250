import assert from 'node:assert/strict';
import {
  Channel,
  decodeChannelMessage,
  encodeChannelMessage,
  headerValues,
  negotiate,
  parseTerminalSize,
  WS_REMOTECOMMAND_PROTOCOLS,
} from './channels.js';

describe('remote command channels (WebSocket v4/v5 codec, negotiation)', () => {
  it('prefixes each message with its channel byte and reads it back', () => {
    const m = encodeChannelMessage(Channel.STDOUT, Buffer.from('hi'));
    assert.deepEqual([...m], [1, 0x68, 0x69]);
    assert.deepEqual(decodeChannelMessage(m), { channel: 1, data: Buffer.from('hi') });
    // v5's close signal names the channel the client closed
    assert.deepEqual(decodeChannelMessage(Buffer.from([255, 0])), { channel: Channel.CLOSE, data: Buffer.from([0]) });
    assert.deepEqual(decodeChannelMessage(encodeChannelMessage(Channel.ERROR, Buffer.alloc(0))), { channel: 3, data: Buffer.alloc(0) });
    assert.equal(decodeChannelMessage(Buffer.alloc(0)), undefined);
  });

  it("picks v5 over v4 whatever the client's order, nothing when none is ours", () => {
    assert.equal(negotiate(['v4.channel.k8s.io', 'v5.channel.k8s.io'], WS_REMOTECOMMAND_PROTOCOLS), 'v5.channel.k8s.io');
    assert.equal(negotiate(headerValues('v4.channel.k8s.io, channel.k8s.io'), WS_REMOTECOMMAND_PROTOCOLS), 'v4.channel.k8s.io');
    assert.equal(negotiate(['v3.channel.k8s.io', 'base64.channel.k8s.io'], WS_REMOTECOMMAND_PROTOCOLS), undefined);
    assert.deepEqual(headerValues(['a, b', 'c']), ['a', 'b', 'c']);
  });

  it('reads a resize message as upstream writes it, refuses anything else', () => {
    assert.deepEqual(parseTerminalSize('{"Width":120,"Height":40}'), { width: 120, height: 40 });
    assert.equal(parseTerminalSize('{"Width":-1,"Height":40}'), undefined);
    assert.equal(parseTerminalSize('not json'), undefined);
  });
});
