/**
 * Bit masks of a compiled class (taints, ports, label requirements). A leaf module: the
 * plugins build masks with it without importing the framework runtime, whose plugin
 * registry imports the plugins back.
 */

/** Returns `mask` with `bit` set, grown when the bit lies past its end. */
export function withBit(mask: Uint32Array, bit: number): Uint32Array {
  const w = bit >>> 5;
  let m = mask;
  if (w >= m.length) {
    m = new Uint32Array(w + 1);
    m.set(mask);
  }
  m[w] |= 1 << (bit & 31);
  return m;
}

export function hasBit(mask: ArrayLike<number>, bit: number): boolean {
  const w = bit >>> 5;
  return w < mask.length && (mask[w] & (1 << (bit & 31))) !== 0;
}
