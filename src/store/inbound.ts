/**
 * Inbound-delivery de-duplication on the InboundEvent table, shared by every process on the database.
 * `seen` is one INSERT ... ON CONFLICT DO NOTHING: the primary key (provider, eventId) decides, so two
 * processes receiving the same delivery at once cannot both handle it (no read-then-write window).
 */
import type { PrismaClient } from './db.ts';

export interface DeduplicatorOptions {
  /** InboundEvent.provider; default 'feishu'. */
  provider?: string;
  /** InboundEvent.type recorded by `seen` (the Deduplicator shape carries only the id); default 'event'. */
  type?: string;
}

const INSERT = `INSERT INTO "InboundEvent" ("provider", "eventId", "type", "receivedAt")
VALUES ($1, $2, $3, now())
ON CONFLICT ("provider", "eventId") DO NOTHING`;

/** Implements the Feishu intake's Deduplicator shape (seen/forget) structurally. */
export class PrismaDeduplicator {
  private readonly provider: string;
  private readonly type: string;

  constructor(
    private readonly prisma: PrismaClient,
    options: DeduplicatorOptions = {},
  ) {
    this.provider = options.provider ?? 'feishu';
    this.type = options.type ?? 'event';
  }

  /** True when the id was recorded before; otherwise records it and answers false. */
  async seen(id: string, type = this.type): Promise<boolean> {
    const inserted = await this.prisma.$executeRawUnsafe(INSERT, this.provider, id, type);
    return inserted === 0;
  }

  /** Drop an id whose handling failed, so the redelivery is handled. */
  async forget(id: string): Promise<void> {
    await this.prisma.inboundEvent.deleteMany({ where: { provider: this.provider, eventId: id } });
  }

  /** Record that the delivery was handled. */
  async markProcessed(id: string): Promise<void> {
    await this.prisma.inboundEvent.updateMany({
      where: { provider: this.provider, eventId: id },
      data: { processedAt: new Date() },
    });
  }

  /**
   * Delete ids received more than `olderThanMs` ago (Feishu redelivers for about 7.1 h, so keep at
   * least 8 h). Returns how many were removed.
   */
  async prune(olderThanMs: number, now = Date.now()): Promise<number> {
    const r = await this.prisma.inboundEvent.deleteMany({
      where: { provider: this.provider, receivedAt: { lt: new Date(now - olderThanMs) } },
    });
    return r.count;
  }
}
