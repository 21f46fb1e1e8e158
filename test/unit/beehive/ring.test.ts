import { expect, test } from "bun:test";
import { Ring } from "../../../src/beehive/ring.ts";

test("ring keeps FIFO order across growth and wrap-around", () => {
  const r = new Ring<number>(2);
  const expected: number[] = [];
  let next = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 7; i++) {
      r.push(next);
      expected.push(next++);
    }
    for (let i = 0; i < 5; i++) expect(r.shift()).toBe(expected.shift() as number);
  }
  expect(r.size).toBe(expected.length);
  expect([...r]).toEqual(expected);
  expect(r.peek()).toBe(expected[0] as number);
  expect(r.drain()).toEqual(expected);
  expect(r.size).toBe(0);
  expect(r.shift()).toBeUndefined();
});

test("unshift puts an item before the head", () => {
  const r = new Ring<string>(1);
  r.push("b");
  r.push("c");
  r.unshift("a");
  expect(r.drain()).toEqual(["a", "b", "c"]);
});
