// Plan costs are sums of per-replica prices, added in different orders by the searches and the
// bound: rounded to 1e-9 $/h so that equal costs compare equal (no 0.1 + 0.2 style ties).

export function roundCost(c: number): number {
  return Math.round(c * 1e9) / 1e9;
}
