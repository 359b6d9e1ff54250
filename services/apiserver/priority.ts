/**
 * The Priority admission plugin (upstream plugin/pkg/admission/priority): a new pod gets
 * spec.priority and spec.preemptionPolicy from the PriorityClass it names, or from the
 * global default class when it names none (priority 0 when there is none); an update keeps
 * the values admission set. A PriorityClass may only become the global default while no
 * other class is. The built-in system classes are created at apiserver start
 * (ensureSystemPriorityClasses).
 */
import { isAlreadyExists, StatusError } from '../../lib/api/errors.js';
import { SYSTEM_PRIORITY_CLASSES } from '../../lib/schema/kinds/scheduling-v1.js';
import { findKind, type ServedKind } from './kinds.js';
import type { AdmissionPlugin, ObjectStorage } from './storage.js';

/** upstream scheduling.DefaultPriorityWhenNoDefaultClassExists */
export const DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS_EXISTS = 0;

/** upstream SystemPriorityClasses' descriptions */
const SYSTEM_CLASS_DESCRIPTIONS: Readonly<Record<string, string>> = {
  'system-node-critical': 'Used for system critical pods that must not be moved from their current node.',
  'system-cluster-critical': 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
};

/**
 * upstream admission.NewForbidden: names the object by name, or by generateName before a
 * name has been generated.
 */
function forbidden(kind: ServedKind, obj: any, message: string): StatusError {
  const name: string = obj?.metadata?.name || obj?.metadata?.generateName || 'Unknown';
  const resource = kind.def.group ? `${kind.def.plural}.${kind.def.group}` : kind.def.plural;
  return new StatusError(403, 'Forbidden', `${resource} "${name}" is forbidden: ${message}`, {
    name,
    group: kind.def.group,
    kind: kind.def.plural,
  });
}

export class PriorityAdmission implements AdmissionPlugin {
  /**
   * defaultClass's answer and the classes' revision it was found at: every pod naming no
   * class asks, and once the classes' last change has left the watch cache's ring each
   * read of one inflates and parses it (two system classes: ~20 µs per pod create).
   */
  private defaultAt?: { changed: number; best: any };

  constructor(private readonly storage: ObjectStorage) {}

  private get classKind(): ServedKind {
    const k = findKind('scheduling.k8s.io', 'v1', 'priorityclasses');
    if (!k) throw new Error('priority admission: scheduling.k8s.io/v1 priorityclasses is not served');
    return k;
  }

  private static isPod(kind: ServedKind): boolean {
    return kind.def.group === '' && kind.def.plural === 'pods';
  }

  private static isPriorityClass(kind: ServedKind): boolean {
    return kind.def.group === 'scheduling.k8s.io' && kind.def.plural === 'priorityclasses';
  }

  /** a promise only when it has something to wait for: other kinds' creates (Events) pass at once */
  admitCreate(kind: ServedKind, obj: any): Promise<void> | void {
    if (PriorityAdmission.isPod(kind)) return this.admitPodCreate(kind, obj);
    if (PriorityAdmission.isPriorityClass(kind)) {
      // a default class created through another apiserver a moment ago must be seen
      if (obj?.globalDefault === true) return this.storage.cache.waitConsistent().then(() => this.validateClass(kind, obj, 'create'));
      this.validateClass(kind, obj, 'create');
    }
  }

  admitUpdate(kind: ServedKind, obj: any, old: any): void {
    if (PriorityAdmission.isPod(kind)) {
      // admission set these on create; an update that omits them keeps them
      const spec = obj?.spec;
      if (!spec || !old?.spec) return;
      if (spec.priority === undefined && old.spec.priority !== undefined) spec.priority = old.spec.priority;
      if (spec.preemptionPolicy === undefined && old.spec.preemptionPolicy !== undefined) spec.preemptionPolicy = old.spec.preemptionPolicy;
    } else if (PriorityAdmission.isPriorityClass(kind)) {
      this.validateClass(kind, obj, 'update');
    }
  }

  /** The class with that name, looking again after the cache caught up when it is not there yet. */
  private async lookup(name: string): Promise<any | undefined> {
    const kind = this.classKind;
    let c = this.storage.cache.get(kind.storage, '', name);
    if (!c) {
      await this.storage.cache.waitConsistent();
      c = this.storage.cache.get(kind.storage, '', name);
    }
    return c?.obj;
  }

  /** The global default class; when a race made several, the one with the lowest value (as upstream). */
  defaultClass(): any | undefined {
    const resource = this.classKind.storage;
    const changed = this.storage.cache.changedAt(resource);
    if (this.defaultAt?.changed === changed) return this.defaultAt.best;
    let best: any;
    for (const c of this.storage.cache.list(resource)) {
      const pc = c.obj;
      if (pc?.globalDefault !== true) continue;
      if (!best || pc.value < best.value) best = pc;
    }
    this.defaultAt = { changed, best };
    return best;
  }

  private async admitPodCreate(kind: ServedKind, pod: any): Promise<void> {
    const spec = (pod.spec ??= {});
    let priority: number;
    let policy: string | undefined;
    const className: string | undefined = spec.priorityClassName || undefined;
    if (!className) {
      // read from the cache as upstream reads its informer: no store round trip per pod
      const dpc = this.defaultClass();
      if (dpc) {
        spec.priorityClassName = dpc.metadata.name;
        priority = dpc.value;
        policy = dpc.preemptionPolicy;
      } else {
        priority = DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS_EXISTS;
        policy = 'PreemptLowerPriority';
      }
    } else {
      const pc = await this.lookup(className);
      if (!pc) throw forbidden(kind, pod, `no PriorityClass with name ${className} was found`);
      priority = pc.value;
      policy = pc.preemptionPolicy;
    }
    if (spec.priority !== undefined && spec.priority !== null && spec.priority !== priority) {
      throw forbidden(
        kind,
        pod,
        `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`,
      );
    }
    spec.priority = priority;
    if (policy) {
      if (spec.preemptionPolicy && spec.preemptionPolicy !== policy) {
        throw forbidden(
          kind,
          pod,
          `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`,
        );
      }
      spec.preemptionPolicy = policy;
    }
  }

  private validateClass(kind: ServedKind, pc: any, op: 'create' | 'update'): void {
    if (pc?.globalDefault !== true) return;
    const dpc = this.defaultClass();
    if (!dpc) return;
    if (op === 'create' || dpc.metadata.name !== pc.metadata?.name) {
      throw forbidden(kind, pc, `PriorityClass ${dpc.metadata.name} is already marked as default. Only one default can exist`);
    }
  }
}

/** Creates the built-in system PriorityClasses that are missing (upstream's bootstrap post-start hook). */
export async function ensureSystemPriorityClasses(storage: ObjectStorage): Promise<void> {
  const kind = findKind('scheduling.k8s.io', 'v1', 'priorityclasses');
  if (!kind) return;
  for (const [name, value] of Object.entries(SYSTEM_PRIORITY_CLASSES)) {
    if (storage.cache.get(kind.storage, '', name)) continue;
    const pc = {
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name },
      value,
      description: SYSTEM_CLASS_DESCRIPTIONS[name],
    };
    try {
      await storage.create(kind, '', pc, { warnings: [] });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }
}
