// The Batcher groups concurrent calls; each caller must get exactly the
// answer (or the error) its own single call would give. Plain functions stand
// in for the database here: what is tested is the grouping. The real
// statements are tested with it in tests/triggers/webhook_enqueue.test.ts and
// tests/engine/save_batch.test.ts.
import { describe, expect, it } from "vitest";
import { Batcher } from "../../shared/db/batcher.ts";

/** one/many that record their calls; items < 0 are "bad" and fail whichever call carries them. */
function recorder(delayMs = 5) {
  const calls: Array<{ kind: "one" | "many"; items: number[] }> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const track = async <T>(fn: () => T): Promise<T> => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, delayMs));
    inFlight--;
    return fn();
  };
  const one = (x: number) =>
    track(() => {
      calls.push({ kind: "one", items: [x] });
      if (x < 0) throw new Error(`bad item ${x}`);
      return x * 10;
    });
  const many = (xs: number[]) =>
    track(() => {
      calls.push({ kind: "many", items: xs });
      if (xs.some((x) => x < 0)) throw new Error("batch failed");
      return xs.map((x) => x * 10);
    });
  return { one, many, calls, maxInFlight: () => maxInFlight };
}

describe("Batcher", () => {
  it("a call on its own goes through one(); calls made together go out as one many() call, answers in order", async () => {
    const r = recorder();
    const b = new Batcher(r.one, r.many, { maxInFlight: 1 });
    expect(await b.call(7)).toBe(70);
    expect(await Promise.all([1, 2, 3, 4].map(b.call))).toEqual([10, 20, 30, 40]);
    expect(r.calls).toEqual([{ kind: "one", items: [7] }, { kind: "many", items: [1, 2, 3, 4] }]);
  });

  it("calls made while a batch is in flight wait and go out together when it returns; never more than maxInFlight at once", async () => {
    const r = recorder(20);
    const b = new Batcher(r.one, r.many, { maxInFlight: 2 });
    const first = [b.call(1), b.call(2)];
    await new Promise((res) => setTimeout(res, 5));
    const second = [b.call(3), b.call(4)];
    await new Promise((res) => setTimeout(res, 1));
    const third = [3, 4, 5].map((x) => b.call(x + 2));
    expect(await Promise.all([...first, ...second, ...third])).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(r.maxInFlight()).toBe(2);
    expect(r.calls.map((c) => c.items)).toEqual([[1, 2], [3, 4], [5, 6, 7]]);
  });

  it("a failed batch is retried item by item: only the bad item's caller gets the error", async () => {
    const r = recorder();
    const b = new Batcher(r.one, r.many);
    const out = await Promise.allSettled([1, -2, 3].map(b.call));
    expect(out).toEqual([
      { status: "fulfilled", value: 10 },
      { status: "rejected", reason: new Error("bad item -2") },
      { status: "fulfilled", value: 30 },
    ]);
    expect(r.calls.map((c) => c.kind)).toEqual(["many", "one", "one", "one"]);
  });

  it("a batch answered with the wrong number of items counts as failed", async () => {
    const b = new Batcher(
      async (x: number) => x,
      async (xs: number[]) => xs.slice(1),
    );
    expect(await Promise.all([1, 2, 3].map(b.call))).toEqual([1, 2, 3]);
  });

  it("maxBatch and maxWeight cut batches; an item heavier than maxWeight goes alone", async () => {
    const r = recorder();
    const b = new Batcher(r.one, r.many, { maxInFlight: 1, maxBatch: 3, weight: (x) => x, maxWeight: 10 });
    await Promise.all([1, 2, 3, 4, 5, 50, 1].map(b.call));
    expect(r.calls.map((c) => c.items)).toEqual([[1, 2, 3], [4, 5], [50], [1]]);
  });
});
