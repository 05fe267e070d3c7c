// A binary min-heap of simulation events over typed arrays: ordered by time, then by a rank the
// caller gives (0 by default), then by an insertion sequence number, so that equal-time events run
// in a deterministic order. The rank shares the sequence's float (rank · 2^32 + sequence): exact
// below 2^20 ranks and 2^32 events per clear(). No allocation per event; the arrays only grow
// (doubling) when the heap outgrows them.

const RANK_STEP = 2 ** 32;

export class EventHeap {
  private time: Float64Array;
  private seq: Float64Array;
  private payload: Int32Array;
  private n = 0;
  private nextSeq = 0;

  constructor(capacity = 1024) {
    this.time = new Float64Array(capacity);
    this.seq = new Float64Array(capacity);
    this.payload = new Int32Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  clear(): void {
    this.n = 0;
    this.nextSeq = 0;
  }

  /** Time of the earliest event; only valid when size > 0. */
  peekTime(): number {
    return this.time[0] as number;
  }

  /** The earliest event's rank; only valid when size > 0. */
  peekRank(): number {
    return Math.floor((this.seq[0] as number) / RANK_STEP);
  }

  /** Adds an event; at equal times, lower ranks come first, then earlier pushes. */
  push(t: number, payload: number, rank = 0): void {
    if (this.n === this.time.length) this.grow();
    const s = rank * RANK_STEP + this.nextSeq++;
    let i = this.n++;
    const time = this.time;
    const seq = this.seq;
    const pay = this.payload;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = time[parent] as number;
      if (pt < t || (pt === t && (seq[parent] as number) < s)) break;
      time[i] = pt;
      seq[i] = seq[parent] as number;
      pay[i] = pay[parent] as number;
      i = parent;
    }
    time[i] = t;
    seq[i] = s;
    pay[i] = payload;
  }

  /** Removes the earliest event and returns its payload (its time was peekTime()). */
  pop(): number {
    const time = this.time;
    const seq = this.seq;
    const pay = this.payload;
    const top = pay[0] as number;
    const last = --this.n;
    if (last === 0) return top;
    const t = time[last] as number;
    const s = seq[last] as number;
    const p = pay[last] as number;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      const r = c + 1;
      if (r < last) {
        const ct = time[c] as number;
        const rt = time[r] as number;
        if (rt < ct || (rt === ct && (seq[r] as number) < (seq[c] as number))) c = r;
      }
      const ct = time[c] as number;
      if (t < ct || (t === ct && s < (seq[c] as number))) break;
      time[i] = ct;
      seq[i] = seq[c] as number;
      pay[i] = pay[c] as number;
      i = c;
    }
    time[i] = t;
    seq[i] = s;
    pay[i] = p;
    return top;
  }

  private grow(): void {
    const cap = this.time.length * 2;
    const time = new Float64Array(cap);
    const seq = new Float64Array(cap);
    const payload = new Int32Array(cap);
    time.set(this.time);
    seq.set(this.seq);
    payload.set(this.payload);
    this.time = time;
    this.seq = seq;
    this.payload = payload;
  }
}
