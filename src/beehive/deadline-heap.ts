// An indexed binary min-heap ordered by `deadline` (ties by insertion order), for the sync table's
// shared timer. Items carry their own index, so a finished request leaves the heap at once; the usual
// case (the newest request finishing first) is a pop from the end.

export interface HeapItem {
  readonly deadline: number;
  /** Position in the heap, -1 when not in it; maintained by the heap. */
  heapIndex: number;
  /** Insertion order, for ties; maintained by the heap. */
  heapSeq: number;
}

export class DeadlineHeap<T extends HeapItem> {
  private readonly items: T[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    item.heapSeq = this.seq++;
    item.heapIndex = this.items.length;
    this.items.push(item);
    this.up(item.heapIndex);
  }

  peek(): T | undefined {
    return this.items[0];
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0 || this.items[i] !== item) return;
    item.heapIndex = -1;
    const last = this.items.pop() as T;
    if (i === this.items.length) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.up(i);
    this.down(last.heapIndex);
  }

  clear(): void {
    for (const item of this.items) item.heapIndex = -1;
    this.items.length = 0;
  }

  private less(x: T, y: T): boolean {
    return x.deadline < y.deadline || (x.deadline === y.deadline && x.heapSeq < y.heapSeq);
  }

  private place(item: T, i: number): void {
    this.items[i] = item;
    item.heapIndex = i;
  }

  private up(i: number): void {
    const item = this.items[i] as T;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = this.items[parentIndex] as T;
      if (!this.less(item, parent)) break;
      this.place(parent, i);
      i = parentIndex;
    }
    this.place(item, i);
  }

  private down(i: number): void {
    const n = this.items.length;
    const item = this.items[i] as T;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let child = l;
      if (r < n && this.less(this.items[r] as T, this.items[l] as T)) child = r;
      const c = this.items[child] as T;
      if (!this.less(c, item)) break;
      this.place(c, i);
      i = child;
    }
    this.place(item, i);
  }
}
