import { expect, test } from "bun:test";
import { DeadlineHeap, type HeapItem } from "../../../src/beehive/deadline-heap.ts";

interface Item extends HeapItem {
  id: number;
}

test("pops in deadline order (ties by insertion) under random pushes and removals", () => {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const heap = new DeadlineHeap<Item>();
  const live = new Set<Item>();
  let id = 0;
  for (let step = 0; step < 5000; step++) {
    const r = random();
    if (r < 0.5 || live.size === 0) {
      const item: Item = { id: id++, deadline: Math.floor(random() * 100), heapIndex: -1, heapSeq: 0 };
      heap.push(item);
      live.add(item);
    } else if (r < 0.8) {
      const victim = [...live][Math.floor(random() * live.size)] as Item;
      heap.remove(victim);
      heap.remove(victim); // a second removal is a no-op
      live.delete(victim);
    } else {
      const expected = [...live].sort((a, b) => a.deadline - b.deadline || a.id - b.id)[0];
      const top = heap.pop();
      expect(top).toBe(expected as Item);
      live.delete(top as Item);
    }
    expect(heap.size).toBe(live.size);
  }
  const rest: number[] = [];
  for (let top = heap.pop(); top !== undefined; top = heap.pop()) rest.push(top.deadline);
  expect(rest).toEqual([...rest].sort((a, b) => a - b));
});
