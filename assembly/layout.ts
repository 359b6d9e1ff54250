/**
 * What the WebAssembly core (assembly/core.ts) and its loader (services/scheduler/core/wasm.ts)
 * must agree on, written once: the contract's codes (services/scheduler/core/types.ts builds
 * its named constants from them), the layout table init() returns, the node flags and the
 * class blob JS writes into linear memory. Plain integer constants only, so that both the
 * AssemblyScript build (where they are i32) and tsc (number) read this same file.
 *
 * Class blob (one heap block per class, from classAlloc; written wholly by JS, then
 * classReady; the core only ever writes the constraint counts). The header holds counts,
 * then the byte offsets (from the blob base) of the arrays that follow it, each 8-byte
 * aligned, then the f64 weights; the arrays are:
 *   request f64[R]  nonZeroRequest f64[2]  untoleratedHard u32[TW]  untoleratedPreferred u32[TW]
 *   selector u32[LW]  requiredTerms u32[nReq][LW]  preferred weights f64[nPref]
 *   preferred masks u32[nPref][LW]  ports u32[PW]  fit (dim, weight) f64[2][nFit]
 *   shape (utilization, score) f64[2][nShape]  balanced (dim, weight) f64[2][nBal]
 *   constraints: CR_SIZE-byte records, each pointing at its counts f64[nDomains] and
 *   eligible u8[nDomains] (offset 0 = every domain eligible).
 */

// ---- contract codes (core/types.ts: Filter, Reason, ConstraintKind, ScoringStrategy, Dim) ----
export const F_UNSCHEDULABLE = 1;
export const F_NODENAME = 2;
export const F_TAINT = 4;
export const F_AFFINITY = 8;
export const F_PORTS = 16;
export const F_FIT = 32;
export const F_SPREAD = 64;
export const F_IPA = 128;

export const R_FITS = 0;
export const R_UNSCHEDULABLE = 1;
export const R_NODENAME = 2;
export const R_TAINT = 3;
export const R_AFFINITY = 4;
export const R_PORTS = 5;
export const R_INSUFFICIENT = 6;
export const R_SPREAD_MISSING = 7;
export const R_SPREAD_SKEW = 8;
export const R_POD_AFFINITY = 9;
export const R_POD_ANTI = 10;
export const R_EXISTING_ANTI = 11;

export const K_SPREAD_HARD = 0;
export const K_SPREAD_SOFT = 1;
export const K_AFFINITY = 2;
export const K_ANTI = 3;
export const K_EXISTING_ANTI = 4;
export const K_AFFINITY_SCORE = 5;

export const S_LEAST = 0;
export const S_MOST = 1;
export const S_RATIO = 2;

export const DIM_CPU = 0;
export const DIM_MEMORY = 1;
export const DIM_EPHEMERAL_STORAGE = 2;
export const DIM_PODS = 3;
export const DIM_FIRST_EXTENDED = 4;

// ---- node flags (flags u32[NP]) ----
export const NODE_PRESENT = 1;
export const NODE_UNSCHEDULABLE = 2;

// ---- the layout table init() returns: i32[LAYOUT_SIZE], byte addresses of the node regions ----
export const LAYOUT_SIZE = 16;
export const L_NP = 0;
export const L_ALLOC = 1;
export const L_REQUESTED = 2;
export const L_NONZERO = 3;
export const L_LABELS = 4;
export const L_TAINTS = 5;
export const L_PORTS = 6;
export const L_FLAGS = 7;
export const L_TOPO = 8;
export const L_OUT_I32 = 9;
export const L_OUT_F64 = 10;

// ---- class blob header, byte offsets ----
export const H_FILTERS = 0;
/** bit 0: toleratesUnschedulable */
export const H_FLAGS = 4;
export const H_NODENAME = 8;
export const H_STRATEGY = 12;
export const H_NREQ = 16;
export const H_NPREF = 20;
export const H_NFIT = 24;
export const H_NSHAPE = 28;
export const H_NBAL = 32;
export const H_NCONS = 36;
// i32 byte offsets of the arrays, from the blob base
export const H_REQUEST = 40;
export const H_NZ = 44;
export const H_UNTOL_HARD = 48;
export const H_UNTOL_PREF = 52;
export const H_SELECTOR = 56;
export const H_REQTERMS = 60;
export const H_PREFW = 64;
export const H_PREFMASK = 68;
export const H_PORTS = 72;
export const H_FIT = 76;
export const H_SHAPE = 80;
export const H_BAL = 84;
export const H_CONS = 88;
// f64
export const H_PCT = 96;
export const H_W_FIT = 104;
export const H_W_BAL = 112;
export const H_W_TAINT = 120;
export const H_W_NA = 128;
export const H_W_SPREAD = 136;
export const H_W_IPA = 144;
export const H_SIZE = 152;

// ---- constraint record, byte offsets ----
export const CR_SIZE = 64;
export const CR_KIND = 0;
export const CR_KEY = 4;
export const CR_ND = 8;
export const CR_PASS_EMPTY = 12;
/** i32 byte offset of counts f64[nDomains] */
export const CR_COUNTS = 16;
/** i32 byte offset of eligible u8[nDomains]; 0 = every domain */
export const CR_ELIGIBLE = 20;
export const CR_SELF = 24;
export const CR_MAXSKEW = 32;
export const CR_MINDOMAINS = 40;
export const CR_WEIGHT = 48;
