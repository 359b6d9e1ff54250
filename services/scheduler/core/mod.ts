/**
 * The scheduling core's entry point: pick an implementation by kind. The WebAssembly SIMD
 * build is the default; FLOTILLA_SCHEDULER_CORE=reference|wasm|wasm-simd overrides it (the
 * reference for debugging, scalar wasm for engines without SIMD).
 */
import { ReferenceCore } from './reference.js';
import type { CoreDims, CoreKind, SchedulingCore } from './types.js';
import { loadWasmModule, WasmCore } from './wasm.js';

export * from './types.js';
export { ReferenceCore } from './reference.js';
export { WasmCore } from './wasm.js';

const KINDS: readonly CoreKind[] = ['reference', 'wasm', 'wasm-simd'];

export function isCoreKind(s: string): s is CoreKind {
  return (KINDS as readonly string[]).includes(s);
}

export function createCore(kind: CoreKind, dims: CoreDims): SchedulingCore {
  switch (kind) {
    case 'reference':
      return new ReferenceCore(dims);
    case 'wasm':
    case 'wasm-simd':
      return new WasmCore(kind, dims);
    default:
      throw new RangeError(`unknown scheduler core kind ${JSON.stringify(kind)} (expected one of ${KINDS.join(', ')})`);
  }
}

/** Throws, naming the file and the command that builds it, when the core of `kind` cannot be loaded. */
export function checkCoreAvailable(kind: CoreKind): void {
  if (kind !== 'reference') loadWasmModule(kind);
}

/** 'wasm-simd' unless FLOTILLA_SCHEDULER_CORE names another kind. */
export function defaultCoreKind(): CoreKind {
  const env = process.env.FLOTILLA_SCHEDULER_CORE?.trim();
  if (!env) return 'wasm-simd';
  if (!isCoreKind(env)) throw new RangeError(`FLOTILLA_SCHEDULER_CORE=${env}: expected one of ${KINDS.join(', ')}`);
  return env;
}
