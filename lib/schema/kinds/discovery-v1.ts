/**
 * discovery.k8s.io/v1: EndpointSlice. Protobuf numbers follow k8s.io/api
 * discovery/v1 generated.proto.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { CORE, define, defineObject, field, fieldType } from '../dsl.js';
import { registerKind } from '../registry.js';
import type { FieldError } from '../types.js';
import { ageColumn } from './apps-v1.js';
import { invalid, notSupported, required } from '../fielderrors.js';

const DISC = 'io.k8s.api.discovery.v1.';
const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'] as const;

defineObject(DISC + 'EndpointSlice', 'EndpointSlice is a subset of the network endpoints behind a Service, all of one address type.', {
  addressType: field(4, fieldType.enum(...ADDRESS_TYPES), 'The kind of address every endpoint of the slice carries: IPv4, IPv6 or FQDN. Immutable.', { required: true }),
  endpoints: field(2, fieldType.array(fieldType.ref(DISC + 'Endpoint')), 'The endpoints of this slice (at most 1000).', { listType: 'atomic' }),
  ports: field(3, fieldType.array(fieldType.ref(DISC + 'EndpointPort')), 'The ports every endpoint of the slice exposes; empty means no ports are defined, and a port without a number means all ports.', { listType: 'atomic' }),
});

define(DISC + 'Endpoint', 'Endpoint is one backend of a Service.', {
  addresses: field(1, fieldType.array(fieldType.string), 'The addresses of this endpoint, of the slice\'s addressType; consumers use the first one.', { required: true, listType: 'set' }),
  conditions: field(2, fieldType.ref(DISC + 'EndpointConditions'), 'What is currently known about the endpoint\'s readiness.'),
  hostname: field(3, fieldType.string, 'A DNS label naming this endpoint, used by DNS implementations.'),
  targetRef: field(4, fieldType.ref(CORE + 'ObjectReference'), 'The object (usually a Pod) that provides this endpoint.'),
  deprecatedTopology: field(5, fieldType.map(fieldType.string), 'Deprecated topology labels (beta API leftovers); write nodeName and zone instead.'),
  nodeName: field(6, fieldType.string, 'The Node hosting this endpoint.'),
  zone: field(7, fieldType.string, 'The zone this endpoint is in.'),
  hints: field(8, fieldType.ref(DISC + 'EndpointHints'), 'Hints for topology-aware routing of traffic to this endpoint.'),
});

define(DISC + 'EndpointConditions', 'The known readiness of an endpoint.', {
  ready: field(1, fieldType.boolean, 'Whether the endpoint may receive traffic now. Unknown (unset) should be read as ready. Terminating endpoints are never ready.', { pointer: true }),
  serving: field(2, fieldType.boolean, 'Like ready, but also true for a terminating endpoint that still passes its readiness checks.', { pointer: true }),
  terminating: field(3, fieldType.boolean, 'Whether the endpoint is being shut down. Unset should be read as not terminating.', { pointer: true }),
});

define(DISC + 'EndpointHints', 'Hints about which consumers should route to an endpoint.', {
  forZones: field(1, fieldType.array(fieldType.ref(DISC + 'ForZone')), 'Zones whose traffic should go to this endpoint.', { listType: 'atomic' }),
  forNodes: field(2, fieldType.array(fieldType.ref(DISC + 'ForNode')), 'Nodes whose traffic should go to this endpoint.', { listType: 'atomic' }),
});

define(DISC + 'ForZone', 'A zone that should consume an endpoint.', {
  name: field(1, fieldType.string, 'The name of the zone.', { required: true }),
});

define(DISC + 'ForNode', 'A node that should consume an endpoint.', {
  name: field(1, fieldType.string, 'The name of the node.', { required: true }),
});

define(DISC + 'EndpointPort', 'EndpointPort is a port exposed by the endpoints of a slice.', {
  name: field(1, fieldType.string, 'The port name, matching the Service port name; empty when unnamed.', { default: '' }),
  protocol: field(2, fieldType.enum('TCP', 'UDP', 'SCTP'), 'The IP protocol: TCP (default), UDP or SCTP.', { default: 'TCP' }),
  port: field(3, fieldType.int32, 'The port number; unset means all ports.', { pointer: true }),
  appProtocol: field(4, fieldType.string, 'The application protocol, as an IANA service name or a domain-prefixed name (e.g. kubernetes.io/h2c).'),
});

function validateEndpointSlice(obj: any, old?: any): FieldError[] {
  const errs: FieldError[] = [];
  const at = obj?.addressType;
  if (at === undefined || at === null || at === '') {
    errs.push(required('addressType'));
  } else if (!(ADDRESS_TYPES as readonly string[]).includes(at)) {
    errs.push(notSupported('addressType', at, ADDRESS_TYPES));
  }
  for (const [i, ep] of (Array.isArray(obj?.endpoints) ? obj.endpoints : []).entries()) {
    const addrs: unknown[] = ep?.addresses ?? [];
    const p = `endpoints[${i}].addresses`;
    if (addrs.length === 0) errs.push(required(p, 'must contain at least 1 address'));
    for (const [j, a] of addrs.entries()) {
      if ((at === 'IPv4' && !isIPv4(String(a))) || (at === 'IPv6' && !isIPv6(String(a)))) {
        errs.push(invalid(`${p}[${j}]`, a, `must be a valid ${at} address`));
      }
    }
  }
  for (const [i, port] of (Array.isArray(obj?.ports) ? obj.ports : []).entries()) {
    if (port?.port !== undefined && port?.port !== null && (port.port < 1 || port.port > 65535)) {
      errs.push(invalid(`ports[${i}].port`, port.port, 'must be between 1 and 65535, inclusive'));
    }
  }
  if (old && old.addressType !== at) errs.push(invalid('addressType', at ?? null, 'field is immutable'));
  return errs;
}

/** upstream listWithMoreString: the first three items, then "+ N more...", "<unset>" when none. */
function listWithMore(items: string[]): string {
  const max = 3;
  if (items.length > max) return `${items.slice(0, max).join(',')} + ${items.length - max} more...`;
  return items.length ? items.join(',') : '<unset>';
}

registerKind({
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  singular: 'endpointslice',
  namespaced: true,
  definition: DISC + 'EndpointSlice',
  validate: validateEndpointSlice,
  columns: [
    { name: 'AddressType', type: 'string', priority: 0, description: 'addressType specifies the type of address carried by this EndpointSlice.', value: (o) => o?.addressType ?? '' },
    {
      name: 'Ports',
      type: 'string',
      priority: 0,
      description: 'ports specifies the list of network ports exposed by each endpoint in this slice.',
      value: (o) => listWithMore((o?.ports ?? []).map((p: any) => (p?.port !== undefined && p?.port !== null ? String(p.port) : p?.name !== undefined && p?.name !== null ? p.name : '*'))),
    },
    {
      name: 'Endpoints',
      type: 'string',
      priority: 0,
      description: 'endpoints is a list of unique endpoints in this slice.',
      value: (o) => listWithMore((o?.endpoints ?? []).flatMap((e: any) => (e?.addresses ?? []).map(String))),
    },
    ageColumn,
  ],
});
