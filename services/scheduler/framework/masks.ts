/** Bit masks of a compiled class (taints, ports, label requirements), as plugins build them. */

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
