// Seeded randomness. One seed is split into named streams, so that adding a consumer never shifts
// another's sequence. Streams are small-state PRNGs (sfc32); stateless draws keyed by integers
// (hashUnit) serve decisions that must not depend on event order, such as edge routing.

/** 32-bit string hash (FNV-1a), to derive a stream's key from its name. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A 32-bit integer finaliser (murmur3 fmix32): good avalanche, no state. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform draw in [0, 1) determined only by (key, a, b): order-independent. */
export function hashUnit(key: number, a: number, b: number): number {
  const h = mix32(mix32(mix32(key ^ 0x9e3779b9) ^ a) + Math.imul(b, 0x27d4eb2f));
  return h / 4294967296;
}

/** Derives the key of a named stream of a seed. */
export function streamKey(seed: number, name: string): number {
  return mix32(mix32(seed >>> 0) ^ hashString(name) ^ Math.floor(seed / 4294967296));
}

/** A seeded stream of uniform numbers (sfc32). */
export class RandomStream {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, name: string) {
    const k = streamKey(seed, name);
    this.a = k;
    this.b = mix32(k + 0x6d2b79f5);
    this.c = mix32(k ^ 0xdeadbeef);
    this.d = 1;
    for (let i = 0; i < 16; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in (0, 1]: safe under log(). */
  nextOpen(): number {
    return (this.nextUint32() + 1) / 4294967296;
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -Math.log(this.nextOpen()) * mean;
  }

  /** Standard normal (Box–Muller; one value per call, for simplicity and determinism). */
  normal(): number {
    const u = this.nextOpen();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Gamma(shape, scale) by Marsaglia–Tsang, with the shape < 1 boost. */
  gamma(shape: number, scale: number): number {
    if (shape < 1) {
      const u = this.nextOpen();
      return this.gamma(shape + 1, scale) * Math.pow(u, 1 / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.nextOpen();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v * scale;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v * scale;
    }
  }
}
