/** SPDY/3.1, as Kubernetes' streaming protocols (exec, attach, port-forward) use it. */
export * from './frames.js';
export { SPDY3_DICTIONARY, HeaderCompressor, HeaderDecompressor, encodeHeaderBlock, decodeHeaderBlock, type SpdyHeaders } from './headers.js';
export { SpdySession, SpdyStream, type SpdySessionOptions } from './session.js';
export { dialSpdy, openRemoteCommandStreams, SpdyDialError, type DialSpdyOptions, type RemoteCommandStreamFlags, type RemoteCommandStreams } from './client.js';
