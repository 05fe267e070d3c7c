import { expect } from 'chai';
import fc from 'fast-check';
import { EventHeap } from '../../src/core/sim/event-heap.js';

describe('core/event-heap', () => {
  it('pops in time order, equal times in insertion order, across growth', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 500 }), (times) => {
      const heap = new EventHeap(2);
      times.forEach((t, i) => heap.push(t, i));
      const got: number[] = [];
      while (heap.size > 0) got.push(heap.pop());
      const want = times.map((t, i) => ({ t, i })).sort((a, b) => a.t - b.t || a.i - b.i).map((x) => x.i);
      expect(got).to.deep.equal(want);
    }));
  });

  it('at equal times, pops lower ranks first, then in insertion order', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 3 })), { maxLength: 300 }), (events) => {
      const heap = new EventHeap(2);
      events.forEach(([t, rank], i) => heap.push(t, i, rank));
      const got: number[] = [];
      while (heap.size > 0) {
        const top = heap.peekRank();
        const i = heap.pop();
        expect(top).to.equal((events[i] as [number, number])[1]);
        got.push(i);
      }
      const want = events.map(([t, rank], i) => ({ t, rank, i })).sort((a, b) => a.t - b.t || a.rank - b.rank || a.i - b.i).map((x) => x.i);
      expect(got).to.deep.equal(want);
    }));
  });

  it('interleaves pushes and pops correctly', () => {
    const heap = new EventHeap();
    heap.push(5, 1);
    heap.push(3, 2);
    expect(heap.peekTime()).to.equal(3);
    expect(heap.pop()).to.equal(2);
    heap.push(4, 3);
    heap.push(5, 4);
    expect([heap.pop(), heap.pop(), heap.pop()]).to.deep.equal([3, 1, 4]);
    expect(heap.size).to.equal(0);
  });
});
