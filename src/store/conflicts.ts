/** Conflicts held by `sync.conflicts: report` on two-way pairs, until `feisync conflicts resolve`. */
import type { CanonicalEvent } from '../core/index.ts';
import type { FieldConflict } from '../sync/merge.ts';
import type { HeldConflict } from '../sync/reverse-types.ts';
import type { PrismaClient } from './db.ts';

export interface ConflictRow {
  id: number;
  pairId: string;
  uid: string;
  originalTime: number;
  fields: FieldConflict[];
  feishu: CanonicalEvent | null;
  spoke: CanonicalEvent | null;
  spokeId: string | null;
  createdAt: Date;
  resolvedAt: Date | null;
  keep: string | null;
}

const toRow = (r: any): ConflictRow => ({
  id: r.id,
  pairId: r.pairId,
  uid: r.uid,
  originalTime: Number(r.originalTime),
  fields: r.fields as FieldConflict[],
  feishu: (r.feishu as CanonicalEvent | null) ?? null,
  spoke: (r.spoke as CanonicalEvent | null) ?? null,
  spokeId: r.spokeId,
  createdAt: r.createdAt,
  resolvedAt: r.resolvedAt,
  keep: r.keep,
});

export class PrismaConflictStore {
  constructor(private readonly prisma: PrismaClient) {}

  /** Holds a conflict; an open one for the same pair and event is replaced (one per event). */
  async hold(c: HeldConflict): Promise<void> {
    const where = {
      pairId: c.pair.id,
      uid: c.key.uid,
      originalTime: BigInt(c.key.originalTime),
      resolvedAt: null,
    };
    const data = {
      fields: JSON.parse(JSON.stringify(c.conflicts)),
      feishu: JSON.parse(JSON.stringify(c.feishu)),
      spoke: JSON.parse(JSON.stringify(c.spoke)),
      spokeId: c.spokeId,
    };
    await this.prisma.$transaction(async (tx) => {
      const open = await tx.conflict.findFirst({ where });
      if (open) await tx.conflict.update({ where: { id: open.id }, data });
      else
        await tx.conflict.create({
          data: { pairId: c.pair.id, uid: c.key.uid, originalTime: BigInt(c.key.originalTime), ...data },
        });
    });
  }

  async get(id: number): Promise<ConflictRow | undefined> {
    const r = await this.prisma.conflict.findUnique({ where: { id } });
    return r ? toRow(r) : undefined;
  }

  async settle(id: number, keep: string): Promise<void> {
    await this.prisma.conflict.update({ where: { id }, data: { resolvedAt: new Date(), keep } });
  }

  /** Open conflicts of one event of a pair (a forward write waits for them). */
  async isOpen(pairId: string, uid: string, originalTime: number): Promise<boolean> {
    const n = await this.prisma.conflict.count({
      where: { pairId, uid, originalTime: BigInt(originalTime), resolvedAt: null },
    });
    return n > 0;
  }
}
