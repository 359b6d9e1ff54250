/**
 * The preemption evaluator (upstream pkg/scheduler/framework/preemption with
 * DefaultPreemption's victim selection): which lower-priority pods to remove from which
 * node so a pod fits. "Fits" is the core's answer for the pod's class with the victims'
 * usage taken off the node (core.setNodeUsage, then diagnose), so resources and host
 * ports are re-judged; the node's real usage is pushed back before the evaluator returns,
 * and nothing here awaits, so no scheduling decision sees the trial usage.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { selectorFromLabelSelector, type Selector } from '../../../../lib/api/labels.js';
import { Dim, Reason } from '../../core/types.js';
import type { NodeInfo, PodInfo, Snapshot } from '../../framework/types.js';

/** upstream DefaultPreemptionArgs */
export interface DefaultPreemptionArgs {
  /** at least this percentage of the nodes are dry-run for candidates (default 10) */
  minCandidateNodesPercentage: number;
  /** at least this many nodes are dry-run for candidates (default 100) */
  minCandidateNodesAbsolute: number;
}

export const DEFAULT_PREEMPTION_ARGS: DefaultPreemptionArgs = {
  minCandidateNodesPercentage: 10,
  minCandidateNodesAbsolute: 100,
};

/** A node where removing `victims` lets the pod fit. */
export interface Candidate {
  nodeName: string;
  slot: number;
  /** most important first (upstream's order) */
  victims: PodInfo[];
  numPDBViolations: number;
}

/** Renders a core reason code (and its detail) as upstream's filter messages. */
export type ReasonRenderer = (code: number, detail: number, snapshot: Snapshot) => string[];

export const NO_VICTIMS_MESSAGE = 'No preemption victims found for incoming pod';
export const NOT_HELPFUL_MESSAGE = 'Preemption is not helpful for scheduling';

export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

/**
 * upstream GetPodStartTime falls back to "now" for pods that have not started; without a
 * kubelet no pod has started here, so the creation time stands in and keeps ties ordered.
 */
export function podStartTime(pod: Pod): number {
  let ms = startTimes.get(pod);
  if (ms === undefined) {
    const t = pod.status?.startTime ?? pod.metadata?.creationTimestamp;
    ms = t ? Date.parse(t) : NaN;
    // a cache's pod object is replaced, never changed, on update: its parsed time holds
    if (!Number.isNaN(ms)) startTimes.set(pod, ms);
  }
  return Number.isNaN(ms) ? Date.now() : ms;
}

/** parsed start times: victim ordering compares them many times per preemption */
const startTimes = new WeakMap<Pod, number>();

/** upstream util.MoreImportantPod: higher priority, then the one that started earlier. */
export function moreImportantPod(a: Pod, b: Pod): boolean {
  const pa = podPriority(a);
  const pb = podPriority(b);
  if (pa !== pb) return pa > pb;
  return podStartTime(a) < podStartTime(b);
}

function byImportance(a: PodInfo, b: PodInfo): number {
  if (moreImportantPod(a.pod, b.pod)) return -1;
  if (moreImportantPod(b.pod, a.pod)) return 1;
  return 0;
}

/** The core reason messages upstream's filter plugins give. */
export function defaultReasonMessages(code: number, detail: number, snapshot: Snapshot): string[] {
  switch (code) {
    case Reason.Unschedulable:
      return ["node(s) were unschedulable"];
    case Reason.NodeName:
      return ["node(s) didn't match the requested node name"];
    case Reason.Taint: {
      const t = snapshot.taintAt(detail);
      return [`node(s) had untolerated taint {${t?.key ?? ''}: ${t?.value ?? ''}}`];
    }
    case Reason.NodeAffinity:
      return ["node(s) didn't match Pod's node affinity/selector"];
    case Reason.NodePorts:
      return ["node(s) didn't have free ports for the requested pod ports"];
    case Reason.Insufficient: {
      // upstream NodeResourcesFit lists the pod count first, then cpu, memory, storage, extended
      const out: string[] = [];
      if (detail & (1 << Dim.PODS)) out.push('Too many pods');
      for (let d = 0; d < 31; d++) {
        if (d === Dim.PODS || !(detail & (1 << d))) continue;
        out.push(`Insufficient ${snapshot.resourceName(d)}`);
      }
      return out;
    }
    case Reason.SpreadMissingLabel:
      return ["node(s) didn't match pod topology spread constraints (missing required label)"];
    case Reason.SpreadSkew:
      return ["node(s) didn't match pod topology spread constraints"];
    case Reason.PodAffinity:
      return ["node(s) didn't match pod affinity rules"];
    case Reason.PodAntiAffinity:
      return ["node(s) didn't match pod anti-affinity rules"];
    case Reason.ExistingAntiAffinity:
      return ["node(s) didn't satisfy existing pods anti-affinity rules"];
    default:
      return [`unknown filter reason ${code}`];
  }
}

/** A PodDisruptionBudget as victim selection reads it. */
export interface CompiledPDB {
  namespace: string;
  selector: Selector;
  allowed: number;
  disrupted: Set<string>;
}

export function compilePDBs(pdbs: readonly PodDisruptionBudget[]): CompiledPDB[] {
  const out: CompiledPDB[] = [];
  for (const pdb of pdbs) {
    let selector: Selector;
    try {
      selector = selectorFromLabelSelector(pdb.spec?.selector as any);
    } catch {
      continue; // an invalid selector matches no pod, as upstream
    }
    out.push({
      namespace: pdb.metadata?.namespace ?? '',
      selector,
      allowed: pdb.status?.disruptionsAllowed ?? 0,
      disrupted: new Set(Object.keys(pdb.status?.disruptedPods ?? {})),
    });
  }
  return out;
}

/**
 * upstream filterPodsWithPDBViolation: walking the pods in order, each matching budget is
 * spent once per pod; a pod that drives any budget below zero is "violating". Pods the
 * budget already lists as disrupted do not spend it again.
 */
export function splitByPDBViolation(pods: readonly PodInfo[], compiled: readonly CompiledPDB[]): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = compiled.map((p) => p.allowed);
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const info of pods) {
    const labels = info.pod.metadata?.labels;
    let violated = false;
    if (labels && Object.keys(labels).length > 0) {
      const ns = info.pod.metadata?.namespace ?? '';
      const name = info.pod.metadata?.name ?? '';
      for (let i = 0; i < compiled.length; i++) {
        const pdb = compiled[i];
        if (pdb.namespace !== ns) continue;
        // an empty (or null) selector matches nothing for a PDB
        if (pdb.selector.empty() || !pdb.selector.matches(labels)) continue;
        if (pdb.disrupted.has(name)) continue;
        allowed[i]--;
        if (allowed[i] < 0) violated = true;
      }
    }
    (violated ? violating : nonViolating).push(info);
  }
  return { violating, nonViolating };
}

/**
 * upstream GetOffsetAndNumCandidates: how many candidates a preemption looks for. Upstream
 * also draws a random offset to start the dry runs at, so that successive preemptions do
 * not dry-run the same nodes first; here the scan starts where the last one stopped
 * (PreemptionEvaluator.findCandidates), which spreads them the same way and keeps runs
 * repeatable.
 */
export function numCandidates(args: DefaultPreemptionArgs, potentialNodes: number): number {
  let n = Math.floor((potentialNodes * args.minCandidateNodesPercentage) / 100);
  if (n < args.minCandidateNodesAbsolute) n = args.minCandidateNodesAbsolute;
  if (n > potentialNodes) n = potentialNodes;
  return n;
}

/**
 * A node's usage in the core during a dry run: its pods' less the victims removed so far.
 * One per findCandidates, reused node after node: a preemption dry-runs hundreds of them.
 */
class TrialUsage {
  private requested = new Float64Array(0);
  private readonly nonZero = new Float64Array(2);
  private ports = new Uint32Array(0);
  private node?: NodeInfo;

  constructor(private readonly snapshot: Snapshot) {}

  /** Sets `node`'s usage to its pods' less those in `removed`. */
  without(node: NodeInfo, removed: ReadonlySet<PodInfo>): void {
    this.node = node;
    if (this.requested.length !== node.requested.length) this.requested = new Float64Array(node.requested.length);
    if (this.ports.length !== node.portBits.length) this.ports = new Uint32Array(node.portBits.length);
    this.requested.set(node.requested);
    this.nonZero[0] = node.nonZeroRequested[0];
    this.nonZero[1] = node.nonZeroRequested[1];
    this.ports.fill(0);
    for (const p of node.pods.values()) {
      if (removed.has(p)) {
        for (let d = 0; d < p.request.length && d < this.requested.length; d++) this.requested[d] -= p.request[d];
        this.nonZero[0] -= p.nonZeroRequest[0];
        this.nonZero[1] -= p.nonZeroRequest[1];
      } else {
        for (const b of p.portBits) this.ports[b >>> 5] |= 1 << (b & 31);
      }
    }
    this.push();
  }

  /** Puts a removed pod back (a reprieved victim): its requests and ports count again. */
  putBack(p: PodInfo): void {
    for (let d = 0; d < p.request.length && d < this.requested.length; d++) this.requested[d] += p.request[d];
    this.nonZero[0] += p.nonZeroRequest[0];
    this.nonZero[1] += p.nonZeroRequest[1];
    for (const b of p.portBits) this.ports[b >>> 5] |= 1 << (b & 31);
    this.push();
  }

  /** Removes a put-back pod again (it did not fit with it); the next putBack sends the usage. */
  takeOut(p: PodInfo, removed: ReadonlySet<PodInfo>): void {
    for (let d = 0; d < p.request.length && d < this.requested.length; d++) this.requested[d] -= p.request[d];
    this.nonZero[0] -= p.nonZeroRequest[0];
    this.nonZero[1] -= p.nonZeroRequest[1];
    if (p.portBits.length === 0) return;
    // another pod may hold the same port: recompute
    this.ports.fill(0);
    for (const q of this.node!.pods.values()) if (!removed.has(q)) for (const b of q.portBits) this.ports[b >>> 5] |= 1 << (b & 31);
  }

  /** The node's real usage, as the cache holds it. */
  restore(): void {
    const n = this.node;
    if (!n) return;
    this.node = undefined;
    this.snapshot.core.setNodeUsage(n.slot, { requested: n.requested, nonZeroRequested: n.nonZeroRequested, ports: n.portBits });
  }

  private push(): void {
    this.snapshot.core.setNodeUsage(this.node!.slot, { requested: this.requested, nonZeroRequested: this.nonZero, ports: this.ports });
  }
}

const NO_VICTIMS: readonly string[] = Object.freeze([NO_VICTIMS_MESSAGE]);

export class PreemptionEvaluator {
  /** where the next findCandidates starts its scan of the potential nodes (see numCandidates) */
  private nextOffset = 0;

  constructor(
    readonly args: DefaultPreemptionArgs = DEFAULT_PREEMPTION_ARGS,
    private readonly render: ReasonRenderer = defaultReasonMessages,
  ) {}

  /** The core's reason for `slot` with the node's current (trial) usage. */
  private reasonAt(snapshot: Snapshot, classId: number, slot: number): number {
    return snapshot.core.diagnoseNode(classId, slot);
  }

  /**
   * upstream SelectVictimsOnNode: remove every lower-priority pod; if the pod then fits,
   * reprieve victims (PDB-violating ones first, each group most important first) while it
   * still fits. Returns the victims, or the reasons the node cannot help (the core's reason
   * code when it does not fit even without them, for the caller to render).
   */
  selectVictimsOnNode(
    snapshot: Snapshot,
    pod: Pod,
    classId: number,
    node: NodeInfo,
    pdbs: readonly CompiledPDB[],
    trial: TrialUsage = new TrialUsage(snapshot),
  ): { victims: PodInfo[]; numPDBViolations: number } | { reasons: readonly string[] } | { reason: number } {
    const priority = podPriority(pod);
    const potential: PodInfo[] = [];
    for (const p of node.pods.values()) if (p.priority < priority) potential.push(p);
    if (potential.length === 0) return { reasons: NO_VICTIMS };
    const removed = new Set(potential);
    try {
      trial.without(node, removed);
      const r = this.reasonAt(snapshot, classId, node.slot);
      if ((r & 0xff) !== Reason.Fits) return { reason: r };
      potential.sort(byImportance);
      const { violating, nonViolating } = splitByPDBViolation(potential, pdbs);
      const victims: PodInfo[] = [];
      let numPDBViolations = 0;
      // a reprieved pod only adds usage back, so each trial is the last one plus that pod
      const reprieve = (p: PodInfo): boolean => {
        removed.delete(p);
        trial.putBack(p);
        const fits = (this.reasonAt(snapshot, classId, node.slot) & 0xff) === Reason.Fits;
        if (!fits) {
          removed.add(p);
          victims.push(p);
          trial.takeOut(p, removed);
        }
        return fits;
      };
      for (const p of violating) if (!reprieve(p)) numPDBViolations++;
      for (const p of nonViolating) reprieve(p);
      // upstream keeps victims in importance order (candidate ranking reads victims[0])
      victims.sort(byImportance);
      return { victims, numPDBViolations };
    } finally {
      trial.restore();
    }
  }

  /**
   * upstream findCandidates + DryRunPreemption over the nodes preemption might help:
   * stops once enough candidates are found (at least one without PDB violations).
   * `statuses` gets every node it tried that cannot help, with the reasons.
   */
  findCandidates(
    snapshot: Snapshot,
    pod: Pod,
    classId: number,
    slots: readonly number[],
    pdbs: readonly PodDisruptionBudget[],
  ): { candidates: Candidate[]; statuses: Map<string, readonly string[]> } {
    const compiled = compilePDBs(pdbs);
    const statuses = new Map<string, readonly string[]>();
    // nodes failing for the same core reason share its rendering
    const rendered = new Map<number, readonly string[]>();
    const nonViolating: Candidate[] = [];
    const violating: Candidate[] = [];
    const want = numCandidates(this.args, slots.length);
    const trial = new TrialUsage(snapshot);
    const n = slots.length;
    const offset = n > 0 ? this.nextOffset % n : 0;
    let scanned = 0;
    while (scanned < n) {
      const slot = slots[(offset + scanned) % n];
      scanned++;
      const node = snapshot.nodeAt(slot);
      if (!node) continue;
      const r = this.selectVictimsOnNode(snapshot, pod, classId, node, compiled, trial);
      if ('reason' in r) {
        let reasons = rendered.get(r.reason);
        if (!reasons) rendered.set(r.reason, (reasons = this.render(r.reason & 0xff, r.reason >>> 8, snapshot)));
        statuses.set(node.name, reasons);
        continue;
      }
      if ('reasons' in r) {
        statuses.set(node.name, r.reasons);
        continue;
      }
      const c: Candidate = { nodeName: node.name, slot, victims: r.victims, numPDBViolations: r.numPDBViolations };
      (c.numPDBViolations === 0 ? nonViolating : violating).push(c);
      if (nonViolating.length > 0 && nonViolating.length + violating.length >= want) break;
    }
    // a scan of every node leaves the start where it was
    this.nextOffset = n > 0 ? (offset + scanned) % n : 0;
    return { candidates: [...nonViolating, ...violating], statuses };
  }
}

/** The earliest start time among the victims of the highest priority (upstream GetEarliestPodStartTime). */
function earliestStartOfTopVictims(victims: readonly PodInfo[]): number {
  if (victims.length === 0) return Number.POSITIVE_INFINITY;
  const top = Math.max(...victims.map((v) => v.priority));
  let earliest = Number.POSITIVE_INFINITY;
  for (const v of victims) if (v.priority === top) earliest = Math.min(earliest, podStartTime(v.pod));
  return earliest;
}

/**
 * upstream pickOneNodeForPreemption: fewest PDB violations, then the lowest
 * highest-priority victim, then the smallest sum of victim priorities, then the fewest
 * victims, then the latest start among the top-priority victims; then the first.
 */
export function pickOneNodeForPreemption(candidates: readonly Candidate[]): Candidate | undefined {
  if (candidates.length === 0) return undefined;
  const noVictims = candidates.find((c) => c.victims.length === 0);
  if (noVictims) return noVictims;
  const keepMin = (cs: Candidate[], score: (c: Candidate) => number): Candidate[] => {
    let best = Number.POSITIVE_INFINITY;
    let out: Candidate[] = [];
    for (const c of cs) {
      const s = score(c);
      if (s < best) {
        best = s;
        out = [c];
      } else if (s === best) out.push(c);
    }
    return out;
  };
  // victim priorities are int32: offsetting each by 2^31 keeps sums of negatives ordered as upstream
  const OFFSET = 2 ** 31;
  let cs = [...candidates];
  cs = keepMin(cs, (c) => c.numPDBViolations);
  if (cs.length === 1) return cs[0];
  cs = keepMin(cs, (c) => Math.max(...c.victims.map((v) => v.priority)));
  if (cs.length === 1) return cs[0];
  cs = keepMin(cs, (c) => c.victims.reduce((s, v) => s + v.priority + OFFSET, 0));
  if (cs.length === 1) return cs[0];
  cs = keepMin(cs, (c) => c.victims.length);
  if (cs.length === 1) return cs[0];
  cs = keepMin(cs, (c) => -earliestStartOfTopVictims(c.victims));
  return cs[0];
}

/** upstream FitError's "0/N nodes are available: a reason, b reason." with its sorted histogram. */
export function nodesAvailableMessage(numAllNodes: number, reasons: Map<string, number>): string {
  const parts = [...reasons].map(([msg, n]) => `${n} ${msg}`).sort();
  let out = `0/${numAllNodes} nodes are available:`;
  if (parts.length > 0) out += ` ${parts.join(', ')}.`;
  return out;
}
