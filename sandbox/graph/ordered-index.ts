/**
 * An insertion-ordered keyed collection that can resume iteration after a position in O(log n).
 *
 * Paging 100,000 users through opaque skip tokens must not rescan from the start on every page,
 * and must survive deletions between pages. Every entry gets an ever-increasing ordinal; a page
 * cursor is the last ordinal returned, found again by binary search. Deletions leave holes that are
 * compacted once they outnumber live entries, so memory stays proportional to the live set.
 */

interface Slot<T> {
  ord: number;
  key: string;
  value: T;
  live: boolean;
}

export class OrderedIndex<T> {
  private slots: Slot<T>[] = [];
  private readonly byKey = new Map<string, Slot<T>>();
  private nextOrd = 1;
  private holes = 0;

  get size(): number {
    return this.byKey.size;
  }

  /** The ordinal the next added entry will get; entries added later compare greater. */
  get highWaterMark(): number {
    return this.nextOrd - 1;
  }

  get(key: string): T | undefined {
    return this.byKey.get(key)?.value;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Adds or replaces; a replaced entry keeps its position. */
  set(key: string, value: T): void {
    const existing = this.byKey.get(key);
    if (existing) {
      existing.value = value;
      return;
    }
    const slot: Slot<T> = { ord: this.nextOrd++, key, value, live: true };
    this.slots.push(slot);
    this.byKey.set(key, slot);
  }

  delete(key: string): boolean {
    const slot = this.byKey.get(key);
    if (!slot) return false;
    slot.live = false;
    this.byKey.delete(key);
    this.holes++;
    if (this.holes > 1024 && this.holes > this.slots.length / 2) this.compact();
    return true;
  }

  clear(): void {
    this.slots = [];
    this.byKey.clear();
    this.holes = 0;
  }

  /** Live entries with an ordinal greater than `afterOrd`, in insertion order. */
  *after(afterOrd: number): Generator<{ ord: number; key: string; value: T }> {
    let lo = 0;
    let hi = this.slots.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.slots[mid]!.ord <= afterOrd) lo = mid + 1;
      else hi = mid;
    }
    // Iterate over a stable array reference: a compaction during iteration replaces `this.slots`.
    const slots = this.slots;
    for (let i = lo; i < slots.length; i++) {
      const slot = slots[i]!;
      if (slot.live) yield { ord: slot.ord, key: slot.key, value: slot.value };
    }
  }

  *values(): Generator<T> {
    for (const entry of this.after(0)) yield entry.value;
  }

  private compact(): void {
    this.slots = this.slots.filter((slot) => slot.live);
    this.holes = 0;
  }
}
