/**
 * Raw id ↔ dense index maps.
 *
 * Readers see raw ids (a Netflix CustomerID, a MovieLens movieId, any string in a CSV) and give
 * every distinct id a dense index 0..n-1 in order of first appearance. Integer ids — the common
 * case, up to 100M lookups for the Netflix data — go through a growable Int32Array indexed by the
 * id itself; ids outside its range use a Map. String ids use a Map<string, number>.
 *
 * Numbers and numeric strings are the same id: "42", "0042" and 42 all name id 42.
 */
import type { RawId, RawIds } from "./types.js";

/** Integer ids below this use direct lookup (the table then costs at most 512 MiB). */
const DIRECT_LIMIT = 1 << 27;
/** Direct lookup always covers ids below this (16 MiB), whatever the id count. */
const DIRECT_FLOOR = 1 << 22;
const INT_KEY = /^[+-]?\d{1,10}$/;

/** The integer a string id stands for, or null when it is not a decimal int32. */
export function intKey(s: string): number | null {
  if (!INT_KEY.test(s)) return null;
  const n = Number(s);
  return n >= -2147483648 && n <= 2147483647 ? n : null;
}

/** The Map key of a string id: numeric strings take their canonical integer spelling. */
function stringKey(s: string): string {
  const n = intKey(s);
  return n === null ? s : String(n);
}

/** Assigns dense indices to raw ids in order of first appearance. */
export class IdMapBuilder {
  /** dense + 1 per non-negative id below direct.length; 0 = not seen. */
  private direct = new Int32Array(0);
  /** Integer ids outside the direct range. */
  private sparse = new Map<number, number>();
  /** Raw integer ids by dense index (while every id so far is an integer). */
  private ints = new Int32Array(1024);
  /** Set once a non-integer id appears: every id by dense index, as strings. */
  private strs: string[] | null = null;
  private byString: Map<string, number> | null = null;
  private count = 0;

  /** Number of distinct ids seen. */
  get size(): number {
    return this.count;
  }

  /** Dense index of an integer id (int32 range), assigning the next one if new. */
  add(id: number): number {
    if (id >= 0 && id < this.direct.length) {
      const d = this.direct[id]!;
      if (d !== 0) return d - 1;
    }
    return this.addSlow(id);
  }

  /**
   * Replaces the integer ids in `ids[start..end)` by their dense indices, in order. One tight
   * pass keeps many table lookups in flight, so it is much faster than `add` per parsed line.
   */
  addAll(ids: Int32Array, start: number, end: number): void {
    let direct = this.direct;
    for (let k = start; k < end; k++) {
      const id = ids[k]!;
      const d = id >= 0 && id < direct.length ? direct[id]! : 0;
      if (d !== 0) {
        ids[k] = d - 1;
      } else {
        ids[k] = this.addSlow(id);
        direct = this.direct;
      }
    }
  }

  /** Dense index of an id given as text: decimal integers go through `add`, anything else is a string id. */
  addKey(s: string): number {
    const n = intKey(s);
    if (n !== null) return this.add(n);
    if (this.byString === null) this.toStrings();
    const known = this.byString!.get(s);
    if (known !== undefined) return known;
    this.strs!.push(s);
    this.byString!.set(s, this.count);
    return this.count++;
  }

  /** The raw ids by dense index: an Int32Array when every id was an integer, else strings. */
  finish(): RawIds {
    return this.strs !== null ? this.strs.slice() : this.ints.slice(0, this.count);
  }

  private addSlow(id: number): number {
    if (!Number.isInteger(id) || id < -2147483648 || id > 2147483647) {
      throw new RangeError(`id ${id} is not a 32-bit integer`);
    }
    if (this.byString !== null) {
      const key = String(id);
      const known = this.byString.get(key);
      if (known !== undefined) return known;
      this.strs!.push(key);
      this.byString.set(key, this.count);
      return this.count++;
    }
    const inDirect = id >= 0 && id < this.direct.length;
    if (!inDirect && id >= 0 && id < DIRECT_LIMIT && (id < DIRECT_FLOOR || id < 16 * (this.count + 1))) {
      this.growDirect(id + 1);
      const moved = this.direct[id]!;
      if (moved !== 0) return moved - 1;
    } else if (!inDirect) {
      const known = this.sparse.get(id);
      if (known !== undefined) return known;
    }
    const dense = this.count++;
    if (dense === this.ints.length) {
      const next = new Int32Array(dense * 2);
      next.set(this.ints);
      this.ints = next;
    }
    this.ints[dense] = id;
    if (id >= 0 && id < this.direct.length) this.direct[id] = dense + 1;
    else this.sparse.set(id, dense);
    return dense;
  }

  /** Widens the direct table to cover ids below `need`, moving sparse ids that now fall inside it. */
  private growDirect(need: number): void {
    let len = Math.max(1024, this.direct.length * 2);
    while (len < need) len *= 2;
    len = Math.min(len, DIRECT_LIMIT);
    const next = new Int32Array(len);
    next.set(this.direct);
    for (const [id, dense] of this.sparse) {
      if (id >= 0 && id < len) {
        next[id] = dense + 1;
        this.sparse.delete(id);
      }
    }
    this.direct = next;
  }

  /** Switches to string ids: every id seen so far becomes its decimal spelling. */
  private toStrings(): void {
    const strs: string[] = new Array(this.count);
    const byString = new Map<string, number>();
    for (let d = 0; d < this.count; d++) {
      const key = String(this.ints[d]);
      strs[d] = key;
      byString.set(key, d);
    }
    this.strs = strs;
    this.byString = byString;
    this.direct = new Int32Array(0);
    this.sparse.clear();
  }
}

/** Looks raw ids up in a finished id table (raw id → dense index). */
export class IdIndex {
  private readonly direct: Int32Array | null = null;
  private readonly byInt: Map<number, number> | null = null;
  private readonly byString: Map<string, number> | null = null;

  constructor(readonly ids: RawIds) {
    if (ids instanceof Int32Array) {
      let max = -1;
      let negative = false;
      for (let d = 0; d < ids.length; d++) {
        const id = ids[d]!;
        if (id > max) max = id;
        if (id < 0) negative = true;
      }
      if (!negative && max < DIRECT_LIMIT && (max < DIRECT_FLOOR || max < 16 * ids.length)) {
        const direct = new Int32Array(max + 1).fill(-1);
        for (let d = ids.length - 1; d >= 0; d--) direct[ids[d]!] = d;
        this.direct = direct;
      } else {
        const byInt = new Map<number, number>();
        for (let d = ids.length - 1; d >= 0; d--) byInt.set(ids[d]!, d);
        this.byInt = byInt;
      }
    } else {
      const byString = new Map<string, number>();
      for (let d = ids.length - 1; d >= 0; d--) byString.set(stringKey(ids[d]!), d);
      this.byString = byString;
    }
  }

  /** Number of ids in the table. */
  get size(): number {
    return this.ids.length;
  }

  /** Dense index of a raw id, or -1 when the table does not hold it. */
  index(raw: RawId): number {
    if (this.byString !== null) {
      const key = typeof raw === "number" ? String(raw) : stringKey(raw);
      return this.byString.get(key) ?? -1;
    }
    const n = typeof raw === "number" ? raw : intKey(raw);
    if (n === null || !Number.isInteger(n)) return -1;
    if (this.direct !== null) return n >= 0 && n < this.direct.length ? this.direct[n]! : -1;
    return this.byInt!.get(n) ?? -1;
  }
}

/**
 * Maps each dense index of table `from` to the dense index of the same raw id in `to`
 * (-1 where `to` does not hold it). Used to carry ratings between datasets with different id tables.
 */
export function translate(from: RawIds, to: IdIndex): Int32Array {
  const out = new Int32Array(from.length);
  for (let d = 0; d < from.length; d++) out[d] = to.index(from[d]!);
  return out;
}
