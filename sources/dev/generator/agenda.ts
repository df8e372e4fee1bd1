/**
 * The simulation's agenda: a binary min-heap of scheduled items keyed by
 * (due time, insertion order). Items due at the same time come out in the
 * order they were scheduled, so the output never depends on heap internals.
 * Parallel arrays instead of entry objects: the agenda holds one entry per
 * open session and pending order step, many of them for hours.
 */
export class Agenda<T> {
  private due: number[] = [];
  private seq: number[] = [];
  private item: (T | undefined)[] = [];
  private n = 0;
  private counter = 0;

  get size(): number {
    return this.n;
  }

  /** Due time of the next item, Infinity when there is none. */
  peekDue(): number {
    return this.n > 0 ? this.due[0]! : Infinity;
  }

  push(due: number, item: T): void {
    const q = this.counter++;
    let i = this.n++;
    const D = this.due,
      S = this.seq,
      I = this.item;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pd = D[p]!;
      if (pd < due || (pd === due && S[p]! < q)) break;
      D[i] = pd;
      S[i] = S[p]!;
      I[i] = I[p];
      i = p;
    }
    D[i] = due;
    S[i] = q;
    I[i] = item;
  }

  /** Removes and returns the next item. Only call when size > 0. */
  pop(): T {
    const D = this.due,
      S = this.seq,
      I = this.item;
    const top = I[0]!;
    const last = --this.n;
    const d = D[last]!,
      s = S[last]!,
      it = I[last];
    I[last] = undefined; // capacity is kept; drop the reference
    if (last === 0) return top;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      const c2 = c + 1;
      if (c2 < last && (D[c2]! < D[c]! || (D[c2] === D[c] && S[c2]! < S[c]!))) c = c2;
      const cd = D[c]!;
      if (d < cd || (d === cd && s < S[c]!)) break;
      D[i] = cd;
      S[i] = S[c]!;
      I[i] = I[c];
      i = c;
    }
    D[i] = d;
    S[i] = s;
    I[i] = it;
    return top;
  }
}
