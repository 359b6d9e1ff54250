/**
 * events.k8s.io/v1: Event. It shares storage with core/v1 Event, as upstream: objects
 * are stored in the core/v1 shape and converted on the way in and out. Protobuf
 * numbers follow k8s.io/api events/v1 generated.proto.
 */
import { CORE, define, defineObject, field, fieldType } from '../dsl.js';
import { registerKind } from '../registry.js';
import type { FieldError } from '../types.js';
import { translateAge } from '../printing.js';
import { nullEventTimes } from './core-v1.js';
import { invalid, required } from '../fielderrors.js';

const EVENTS = 'io.k8s.api.events.v1.';

defineObject(EVENTS + 'Event', 'Event reports something that happened in the cluster, usually a state change of some object. Events are kept for a limited time only.', {
  eventTime: field(2, fieldType.microTime, 'When this event was first observed.', { required: true }),
  series: field(3, fieldType.ref(EVENTS + 'EventSeries'), 'Present when this event stands for a series of repeated occurrences; absent for a one-off event.'),
  reportingController: field(4, fieldType.string, 'The controller that emitted the event, e.g. kubernetes.io/kubelet. Required for new events.'),
  reportingInstance: field(5, fieldType.string, 'The instance of that controller, e.g. kubelet-node1. Required for new events; at most 128 characters.'),
  action: field(6, fieldType.string, 'What the reporting controller did, or failed to do, to the regarding object. Required for new events; at most 128 characters.'),
  reason: field(7, fieldType.string, 'Why the action was taken, in short machine-readable CamelCase. Required for new events; at most 128 characters.'),
  regarding: field(8, fieldType.ref(CORE + 'ObjectReference'), 'The object the event is about; usually the object the reporting controller acted on.'),
  related: field(9, fieldType.ref(CORE + 'ObjectReference'), 'A second object involved, for more complex actions (e.g. the Node a Pod was scheduled to).'),
  note: field(10, fieldType.string, 'A human-readable description of what happened, at most 1kB.'),
  type: field(11, fieldType.enum('Normal', 'Warning'), 'Normal or Warning; more types may be added later.'),
  deprecatedSource: field(12, fieldType.ref(CORE + 'EventSource'), 'The core/v1 source field; kept for compatibility and must not be set by new clients.'),
  deprecatedFirstTimestamp: field(13, fieldType.time, 'The core/v1 firstTimestamp field; kept for compatibility and must not be set by new clients.'),
  deprecatedLastTimestamp: field(14, fieldType.time, 'The core/v1 lastTimestamp field; kept for compatibility and must not be set by new clients.'),
  deprecatedCount: field(15, fieldType.int32, 'The core/v1 count field; kept for compatibility and must not be set by new clients.'),
});

define(EVENTS + 'EventSeries', 'EventSeries summarises repeated occurrences of an event; the reporter updates it periodically while the occurrences go on.', {
  count: field(1, fieldType.int32, 'How many times the event has occurred so far.', { required: true }),
  lastObservedTime: field(2, fieldType.microTime, 'When the last occurrence was seen.', { required: true }),
});

const present = (v: unknown) => v !== undefined && v !== null;

/** events.k8s.io/v1 Event -> core/v1 Event (the stored shape). */
export function eventToCore(e: any): any {
  const out: any = { apiVersion: 'v1', kind: 'Event' };
  if (present(e.metadata)) out.metadata = e.metadata;
  out.involvedObject = present(e.regarding) ? e.regarding : {};
  const pairs: [string, string][] = [
    ['reason', 'reason'],
    ['note', 'message'],
    ['deprecatedSource', 'source'],
    ['deprecatedFirstTimestamp', 'firstTimestamp'],
    ['deprecatedLastTimestamp', 'lastTimestamp'],
    ['deprecatedCount', 'count'],
    ['type', 'type'],
    ['eventTime', 'eventTime'],
    ['series', 'series'],
    ['action', 'action'],
    ['related', 'related'],
    ['reportingController', 'reportingComponent'],
    ['reportingInstance', 'reportingInstance'],
  ];
  for (const [from, to] of pairs) if (present(e[from])) out[to] = e[from];
  nullEventTimes(out);
  return out;
}

/** core/v1 Event (the stored shape) -> events.k8s.io/v1 Event. */
export function eventFromCore(c: any): any {
  const out: any = { apiVersion: 'events.k8s.io/v1', kind: 'Event' };
  if (present(c.metadata)) out.metadata = c.metadata;
  const pairs: [string, string][] = [
    ['eventTime', 'eventTime'],
    ['series', 'series'],
    ['reportingComponent', 'reportingController'],
    ['reportingInstance', 'reportingInstance'],
    ['action', 'action'],
    ['reason', 'reason'],
    ['involvedObject', 'regarding'],
    ['related', 'related'],
    ['message', 'note'],
    ['type', 'type'],
    ['source', 'deprecatedSource'],
    ['firstTimestamp', 'deprecatedFirstTimestamp'],
    ['lastTimestamp', 'deprecatedLastTimestamp'],
    ['count', 'deprecatedCount'],
  ];
  for (const [from, to] of pairs) if (present(c[from])) out[to] = c[from];
  return out;
}

/** Whether an Event object is in the core/v1 shape rather than the events.k8s.io/v1 one. */
function isCoreShape(o: any): boolean {
  if (o?.apiVersion === 'v1') return true;
  if (o?.apiVersion === 'events.k8s.io/v1') return false;
  return present(o?.involvedObject) || present(o?.message) || present(o?.reportingComponent);
}

const asCore = (o: any) => (isCoreShape(o) ? o : eventToCore(o ?? {}));
const asEventsV1 = (o: any) => (isCoreShape(o) ? eventFromCore(o) : o ?? {});

const timeSince = (t: string | undefined, now: number) => translateAge(t || undefined, now);

/** upstream printEvent's LAST SEEN / FIRST SEEN / COUNT logic over a core/v1 Event. */
function eventTimes(c: any, now: number): { last: string; first: string; count: number } {
  const first = c.firstTimestamp ? timeSince(c.firstTimestamp, now) : timeSince(c.eventTime, now);
  let last = c.lastTimestamp ? timeSince(c.lastTimestamp, now) : first;
  let count: number = c.count ?? 0;
  if (c.series) {
    last = timeSince(c.series.lastObservedTime, now);
    count = c.series.count ?? 0;
  } else if (count === 0) {
    count = 1; // singleton events carry no count in the new API
  }
  return { last, first, count };
}

function eventTarget(c: any): string {
  const kind = String(c.involvedObject?.kind ?? '').toLowerCase();
  return c.involvedObject?.name ? `${kind}/${c.involvedObject.name}` : kind;
}

function eventSource(c: any): string {
  const component = c.source?.component || c.reportingComponent || '';
  const instance = c.source?.host || c.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}

function validateEvent(obj: any, old?: any): FieldError[] {
  if (old) return [];
  const e = asEventsV1(obj);
  const errs: FieldError[] = [];
  if (!e.eventTime) errs.push(required('eventTime'));
  if (e.type !== 'Normal' && e.type !== 'Warning') errs.push(invalid('type', '', `has invalid value: ${e.type ?? ''}`));
  if (!e.reportingController) errs.push(required('reportingController'));
  if (!e.reportingInstance) errs.push(required('reportingInstance'));
  else if (String(e.reportingInstance).length > 128) errs.push(invalid('reportingInstance', '', 'can have at most 128 characters'));
  if (!e.action) errs.push(required('action'));
  else if (String(e.action).length > 128) errs.push(invalid('action', '', 'can have at most 128 characters'));
  if (!e.reason) errs.push(required('reason'));
  else if (String(e.reason).length > 128) errs.push(invalid('reason', '', 'can have at most 128 characters'));
  if (present(e.note) && String(e.note).length > 1024) errs.push(invalid('note', '', 'can have at most 1024 characters'));
  if (e.series) {
    if (!(typeof e.series.count === 'number' && e.series.count >= 2)) errs.push(invalid('series.count', '', 'should be at least 2'));
    if (!e.series.lastObservedTime) errs.push(required('series.lastObservedTime'));
  }
  if (e.deprecatedFirstTimestamp) errs.push(invalid('deprecatedFirstTimestamp', '', 'needs to be unset'));
  if (e.deprecatedLastTimestamp) errs.push(invalid('deprecatedLastTimestamp', '', 'needs to be unset'));
  if (e.deprecatedCount) errs.push(invalid('deprecatedCount', '', 'needs to be unset'));
  if (e.deprecatedSource?.component || e.deprecatedSource?.host) errs.push(invalid('deprecatedSource', '', 'needs to be unset'));
  return errs;
}

const regardingField = (key: string) => (o: any) => {
  const ref = asCore(o).involvedObject ?? {};
  return ref[key] === undefined || ref[key] === null ? '' : String(ref[key]);
};

registerKind({
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  namespaced: true,
  definition: EVENTS + 'Event',
  storage: { plural: 'events', group: '', toStorage: eventToCore, fromStorage: eventFromCore },
  validate: validateEvent,
  // The selectable fields of events.k8s.io/v1, which upstream maps onto the core/v1 ones.
  fieldSelectors: {
    'regarding.kind': regardingField('kind'),
    'regarding.namespace': regardingField('namespace'),
    'regarding.name': regardingField('name'),
    'regarding.uid': regardingField('uid'),
    'regarding.apiVersion': regardingField('apiVersion'),
    'regarding.resourceVersion': regardingField('resourceVersion'),
    'regarding.fieldPath': regardingField('fieldPath'),
    reason: (o) => asCore(o).reason ?? '',
    reportingController: (o) => asCore(o).reportingComponent ?? '',
    type: (o) => asCore(o).type ?? '',
  },
  columns: [
    { name: 'Last Seen', type: 'string', priority: 0, description: 'The time at which the most recent occurrence of this event was recorded.', value: (o, now) => eventTimes(asCore(o), now).last },
    { name: 'Type', type: 'string', priority: 0, description: 'Type of this event (Normal, Warning).', value: (o) => asCore(o).type ?? '' },
    { name: 'Reason', type: 'string', priority: 0, description: 'Why the action was taken, in short machine-readable form.', value: (o) => asCore(o).reason ?? '' },
    { name: 'Object', type: 'string', priority: 0, description: 'The object that this event is about.', value: (o) => eventTarget(asCore(o)) },
    { name: 'Subobject', type: 'string', priority: 1, description: 'The part of the object (e.g. a container) the event is about.', value: (o) => asCore(o).involvedObject?.fieldPath ?? '' },
    { name: 'Source', type: 'string', priority: 1, description: 'The component reporting this event.', value: (o) => eventSource(asCore(o)) },
    { name: 'Message', type: 'string', priority: 0, description: 'A human-readable description of the status of this operation.', value: (o) => String(asCore(o).message ?? '').trim() },
    { name: 'First Seen', type: 'string', priority: 1, description: 'The time at which the event was first recorded.', value: (o, now) => eventTimes(asCore(o), now).first },
    { name: 'Count', type: 'string', priority: 1, description: 'The number of times this event has occurred.', value: (o, now) => eventTimes(asCore(o), now).count },
    // Upstream's event table puts NAME last and shows it only with -o wide, as core/v1 does.
    { name: 'Name', type: 'string', format: 'name', priority: 1, description: 'The name of the event.', value: (o) => o?.metadata?.name ?? '' },
  ],
});
