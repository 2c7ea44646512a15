/**
 * A small seeded PRNG (PCG-XSH-RR 32-bit, 64-bit state as two 32-bit halves) with a Box–Muller normal sampler.
 *
 * Everything is integer arithmetic on 32-bit words plus `Math.log`, `Math.sqrt`, `Math.cos`/`Math.sin` on
 * float64, rounded to float32 at the end, so a seed gives the same numbers in Deno, Node and browsers.
 * The state is two uint32 words and can be saved and restored (for resumable training).
 */

/** The serialisable state of an {@link Rng}. */
export interface RngState {
  hi: number;
  lo: number;
  /** A spare normal deviate from the last Box–Muller pair, or null. */
  spare: number | null;
}

const MUL_HI = 0x5851f42d;
const MUL_LO = 0x4c957f2d;
const INC_HI = 0x14057b7e;
const INC_LO = 0xf767814f;

/** Multiplies two uint64 values given as 32-bit halves, modulo 2^64, and adds a third. */
function mulAdd64(
  aHi: number,
  aLo: number,
  bHi: number,
  bLo: number,
  cHi: number,
  cLo: number,
): [number, number] {
  const a0 = aLo & 0xffff, a1 = aLo >>> 16, b0 = bLo & 0xffff, b1 = bLo >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  let lo = ((mid & 0xffff) << 16 | (p00 & 0xffff)) >>> 0;
  let hi = (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) + Math.imul(aHi, bLo) +
    Math.imul(aLo, bHi)) >>> 0;
  const sumLo = lo + cLo;
  lo = sumLo >>> 0;
  hi = (hi + cHi + (sumLo > 0xffffffff ? 1 : 0)) >>> 0;
  return [hi, lo];
}

/** A seeded pseudo-random generator: uniform integers and floats, and standard normal deviates. */
export class Rng {
  #hi = 0;
  #lo = 0;
  #spare: number | null = null;

  /** Creates a generator from a non-negative integer seed (any safe integer; it is mixed into 64 bits). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`seed must be a non-negative safe integer, got ${seed}`);
    }
    const seedHi = Math.floor(seed / 0x100000000) >>> 0;
    const seedLo = seed >>> 0;
    this.#step();
    const lo = this.#lo + seedLo;
    this.#lo = lo >>> 0;
    this.#hi = (this.#hi + seedHi + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    this.#step();
  }

  #step(): void {
    [this.#hi, this.#lo] = mulAdd64(this.#hi, this.#lo, MUL_HI, MUL_LO, INC_HI, INC_LO);
  }

  /** The next uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const hi = this.#hi, lo = this.#lo;
    this.#step();
    // xorshifted = ((state >> 18) ^ state) >> 27, rot = state >> 59
    const xHi = (hi >>> 18) ^ hi;
    const xLo = ((hi << 14) | (lo >>> 18)) ^ lo;
    const xorshifted = ((xHi << 5) | (xLo >>> 27)) >>> 0;
    const rot = hi >>> 27;
    return ((xorshifted >>> rot) | (xorshifted << ((32 - rot) & 31))) >>> 0;
  }

  /** A uniform float in [0, 1) with 32 bits of randomness. */
  nextFloat(): number {
    return this.nextUint32() / 0x100000000;
  }

  /** A uniform integer in [0, n), without modulo bias. */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 0x100000000) throw new RangeError(`bad range ${n}`);
    const limit = 0x100000000 - (0x100000000 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** A standard normal deviate (mean 0, variance 1), Box–Muller, as a float32 value. */
  nextNormal(): number {
    if (this.#spare !== null) {
      const s = this.#spare;
      this.#spare = null;
      return s;
    }
    const u1 = (this.nextUint32() + 1) / 0x100000001; // in (0, 1): log is finite
    const u2 = this.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.#spare = Math.fround(r * Math.sin(theta));
    return Math.fround(r * Math.cos(theta));
  }

  /** Fills a new Float32Array of length n with standard normal deviates times `scale`. */
  normals(n: number, scale = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.nextNormal() * scale;
    return out;
  }

  /** The generator's state, to save and later {@link Rng.fromState restore}. */
  getState(): RngState {
    return { hi: this.#hi, lo: this.#lo, spare: this.#spare };
  }

  /** Recreates a generator from a saved state; it continues exactly where the saved one stopped. */
  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.#hi = state.hi >>> 0;
    r.#lo = state.lo >>> 0;
    r.#spare = state.spare;
    return r;
  }
}

/** The `n`·`dim` latents for `seed`: the same numbers on every platform (row-major, float32). */
export function latentsForSeed(seed: number, n: number, dim: number): Float32Array {
  return new Rng(seed).normals(n * dim);
}
