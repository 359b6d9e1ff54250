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

/** upstream GetOffsetAndNumCandidates (offset 0: the scan is deterministic here). */
export function numCandidates(args: DefaultPreemptionArgs, potentialNodes: number): number {
  let n = Math.floor((potentialNodes * args.minCandidateNodesPercentage) / 100);
  if (n < args.minCandidateNodesAbsolute) n = args.minCandidateNodesAbsolute;
  if (n > potentialNodes) n = potentialNodes;
  return n;
}

/** Sets a node's usage in the core to its pods minus `removed`. */
class TrialUsage {
  private readonly requested: Float64Array;
  private readonly nonZero = new Float64Array(2);
  private readonly ports: Uint32Array;

  constructor(
    private readonly snapshot: Snapshot,
    private readonly node: NodeInfo,
  ) {
    this.requested = new Float64Array(node.requested.length);
    this.ports = new Uint32Array(snapshot.words().ports);
  }

  push(removed: ReadonlySet<string>): void {
    const n = this.node;
    this.requested.set(n.requested);
    this.nonZero[0] = n.nonZeroRequested[0];
    this.nonZero[1] = n.nonZeroRequested[1];
    this.ports.fill(0);
    for (const p of n.pods.values()) {
      if (removed.has(p.key)) {
        for (let d = 0; d < p.request.length && d < this.requested.length; d++) this.requested[d] -= p.request[d];
        this.nonZero[0] -= p.nonZeroRequest[0];
        this.nonZero[1] -= p.nonZeroRequest[1];
      } else {
        for (const b of p.portBits) this.ports[b >>> 5] |= 1 << (b & 31);
      }
    }
    this.snapshot.core.setNodeUsage(n.slot, { requested: this.requested, nonZeroRequested: this.nonZero, ports: this.ports });
  }

  /** the node's real usage, as the cache holds it */
  restore(): void {
    this.push(new Set());
  }
}

export class PreemptionEvaluator {
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
   * still fits. Returns the victims, or the reasons the node cannot help.
   */
  selectVictimsOnNode(
    snapshot: Snapshot,
    pod: Pod,
    classId: number,
    node: NodeInfo,
    pdbs: readonly CompiledPDB[],
  ): { victims: PodInfo[]; numPDBViolations: number } | { reasons: string[] } {
    const priority = podPriority(pod);
    const potential: PodInfo[] = [];
    for (const p of node.pods.values()) if (p.priority < priority) potential.push(p);
    if (potential.length === 0) return { reasons: [NO_VICTIMS_MESSAGE] };
    const trial = new TrialUsage(snapshot, node);
    const removed = new Set(potential.map((p) => p.key));
    try {
      trial.push(removed);
      const r = this.reasonAt(snapshot, classId, node.slot);
      if ((r & 0xff) !== Reason.Fits) return { reasons: this.render(r & 0xff, r >>> 8, snapshot) };
      potential.sort(byImportance);
      const { violating, nonViolating } = splitByPDBViolation(potential, pdbs);
      const victims: PodInfo[] = [];
      let numPDBViolations = 0;
      const reprieve = (p: PodInfo): boolean => {
        removed.delete(p.key);
        trial.push(removed);
        const fits = (this.reasonAt(snapshot, classId, node.slot) & 0xff) === Reason.Fits;
        if (!fits) {
          removed.add(p.key);
          victims.push(p);
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
  ): { candidates: Candidate[]; statuses: Map<string, string[]> } {
    const compiled = compilePDBs(pdbs);
    const statuses = new Map<string, string[]>();
    const nonViolating: Candidate[] = [];
    const violating: Candidate[] = [];
    const want = numCandidates(this.args, slots.length);
    for (const slot of slots) {
      const node = snapshot.nodeAt(slot);
      if (!node) continue;
      const r = this.selectVictimsOnNode(snapshot, pod, classId, node, compiled);
      if ('reasons' in r) {
        statuses.set(node.name, r.reasons);
        continue;
      }
      const c: Candidate = { nodeName: node.name, slot, victims: r.victims, numPDBViolations: r.numPDBViolations };
      (c.numPDBViolations === 0 ? nonViolating : violating).push(c);
      if (nonViolating.length > 0 && nonViolating.length + violating.length >= want) break;
    }
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
