/** Spoke push subscriptions of two-way pairs (Google watch channels, Graph subscriptions). */
import type { Subscription } from '../ports/index.ts';
import type { PrismaClient } from './db.ts';

export interface StoredSubscription {
  sub: Subscription;
  pairId: string;
  spoke: string;
  /** What each delivery must present (channel token, clientState). */
  secret: string;
}

export class PrismaSubscriptionStore {
  constructor(private readonly prisma: PrismaClient) {}

  async save(pairId: string, spoke: string, sub: Subscription, secret: string): Promise<void> {
    const data = {
      pairId,
      spoke,
      resource: sub.resource ?? null,
      secret,
      expiresAt: new Date(sub.expiresAt),
    };
    await this.prisma.spokeSubscription.upsert({
      where: { id: sub.id },
      create: { id: sub.id, ...data },
      update: data,
    });
  }

  async get(id: string): Promise<StoredSubscription | undefined> {
    const r = await this.prisma.spokeSubscription.findUnique({ where: { id }, include: { pair: true } });
    if (!r) return undefined;
    return {
      sub: {
        id: r.id,
        calendar: { owner: r.pair.spokeOwner, id: r.pair.spokeCalendar },
        ...(r.resource ? { resource: r.resource } : {}),
        expiresAt: r.expiresAt.getTime(),
      },
      pairId: r.pairId,
      spoke: r.spoke,
      secret: r.secret,
    };
  }

  async all(): Promise<StoredSubscription[]> {
    const rows = await this.prisma.spokeSubscription.findMany({ select: { id: true } });
    const out: StoredSubscription[] = [];
    for (const r of rows) {
      const s = await this.get(r.id);
      if (s) out.push(s);
    }
    return out;
  }

  async remove(id: string): Promise<void> {
    await this.prisma.spokeSubscription.deleteMany({ where: { id } });
  }
}
