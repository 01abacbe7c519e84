/**
 * A pair's writes gathered into full write requests (a Google batch carries 100, a Graph $batch 20).
 * Written page by page, each page of a pull left its last request short, and its exceptions, which
 * wait for their series' masters, went in short requests of their own. The pipe sends only what
 * fills whole requests until it is told to send everything; the masters that exceptions wait for go
 * first, so the exceptions are ready to fill the requests that follow.
 */
import { formatKey, type InstanceKey } from '../core/index.ts';
import type { Link } from '../ports/index.ts';
import { type ApplyContext, applyWrites } from './apply.ts';
import type { WriteAction } from './plan.ts';

const masterKey = (key: InstanceKey) => formatKey({ uid: key.uid, originalTime: 0 });

export class WritePipe {
  /** Writes that can go now, by key (a later page's action for the same key replaces the earlier). */
  private readonly ready = new Map<string, WriteAction>();
  /** Exceptions whose series master is not on the spoke yet (being written, or on a later page). */
  private readonly waiting = new Map<string, WriteAction>();
  /** The links of the held writes and of their masters, updated as they are written. */
  private readonly links = new Map<string, Link>();
  private readonly size: number;

  constructor(private readonly ctx: ApplyContext) {
    this.size = Math.max(1, ctx.connector.capabilities?.writesPerRequest ?? 1);
  }

  /** Writes held (not yet handed to the spoke). */
  get held(): number {
    return this.ready.size + this.waiting.size;
  }

  /** Holds `actions` (diffed against `links`, which holds their links and their masters'). */
  add(actions: WriteAction[], links: Map<string, Link>) {
    for (const a of actions) {
      const k = formatKey(a.key);
      for (const key of [k, masterKey(a.key)]) {
        const l = links.get(key);
        if (l && !this.links.has(key)) this.links.set(key, l);
      }
      this.ready.delete(k);
      this.waiting.delete(k);
      (a.key.originalTime === 0 || this.masterOnSpoke(a.key) ? this.ready : this.waiting).set(k, a);
    }
  }

  /** Writes what fills whole requests; `all`: everything held (the end of the pull). */
  async flush(all: boolean): Promise<void> {
    for (;;) {
      for (const [k, a] of this.waiting)
        if (this.masterOnSpoke(a.key)) {
          this.waiting.delete(k);
          this.ready.set(k, a);
        }
      const n = all ? this.ready.size : this.ready.size - (this.ready.size % this.size);
      if (n === 0) break;
      await this.write(this.next(n));
    }
    if (all && this.waiting.size) {
      // masters that never came (failed, or not in Feishu's listing): written as before, they fail
      // or, for a cancelled occurrence, are skipped (apply.ts)
      const rest = [...this.waiting.values()];
      this.waiting.clear();
      await this.write(rest);
    }
  }

  /** The next `n` ready writes: masters that held exceptions wait for first. */
  private next(n: number): WriteAction[] {
    const wanted = new Set([...this.waiting.values()].map((a) => masterKey(a.key)));
    const order = [...this.ready.values()];
    const first = order.filter((a) => wanted.has(formatKey(a.key)));
    const out = [...first, ...order.filter((a) => !wanted.has(formatKey(a.key)))].slice(0, n);
    for (const a of out) this.ready.delete(formatKey(a.key));
    return out;
  }

  private async write(actions: WriteAction[]) {
    await applyWrites(this.ctx, actions, this.links);
    // what was written no longer needs its link here, unless held exceptions need it as their master
    const wanted = new Set([...this.waiting.values(), ...this.ready.values()].map((a) => masterKey(a.key)));
    for (const a of actions) {
      const k = formatKey(a.key);
      if (!wanted.has(k)) this.links.delete(k);
    }
  }

  private masterOnSpoke(key: InstanceKey): boolean {
    const m = this.links.get(masterKey(key));
    return !!m?.spokeId && !m.tombstone;
  }
}
