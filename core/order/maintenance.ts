import { type ReservedCounter, reservedFixUpdate } from "../catalog/store-reservations.js";
import { DomainError } from "../errors.js";
import type { Actor } from "../schema.js";
import { acquireLease, inParallel } from "../store/lease.js";
import { indexKeysBelow, scanEntity } from "../store/scan.js";
import { allShards, Entity, keys, ShardCount } from "../store/table.js";
import { updateIfMet } from "../store/write.js";
import type { OrderItem } from "./model.js";
import { expirePayment, graceCutoff } from "./transition.js";

export interface ExpirySweep {
  examined: number;
  canceled: string[];
  failed: { orderId: string; code: string; message: string }[];
  /** Another run held the lease: this one did nothing. */
  skipped: boolean;
  /** The time budget ran out first; the next run goes on where this one stopped. */
  unfinished: boolean;
}

/** Deadline shards read at once, and overdue orders of one shard cancelled at once. */
const SWEEP_SLICES = 8;
const SWEEP_ORDERS_PER_SLICE = 4;
const SWEEP_PAGE = 100;
/** Without a caller's deadline a sweep stops taking work after this, well inside its 1-minute schedule. */
const DEFAULT_SWEEP_BUDGET_MS = 45_000;

/**
 * Cancels every order whose payment window closed before `now`. Orders awaiting payment sit on gsi2 under
 * `PAYMENT_DUE#<shard>` (64 shards), sorted by deadline, and leave it on any transition; the shards are read in
 * parallel slices, a page at a time (memory stays bounded however many orders are overdue), until the time budget
 * (`deadline`, epoch ms) is spent. Each cancellation goes through the guarded transition, so a payment that landed
 * first wins; an order that fails (throttled included) is reported and the sweep goes on. Two runs never overlap.
 */
export async function expireOverduePayments(
  now: Date,
  who: Actor,
  options: { deadline?: number } = {},
): Promise<ExpirySweep> {
  const deadline = options.deadline ?? Date.now() + DEFAULT_SWEEP_BUDGET_MS;
  const sweep: ExpirySweep = { examined: 0, canceled: [], failed: [], skipped: false, unfinished: false };
  const lease = await acquireLease("ExpireUnpaidOrders", Math.max(1_000, deadline - Date.now()) + 5_000);
  if (!lease) return { ...sweep, skipped: true };
  try {
    await inParallel(
      allShards(keys.paymentDeadlinePrefix, ShardCount.paymentDeadlines),
      SWEEP_SLICES,
      async (partition) => {
        let startKey: Record<string, unknown> | undefined;
        do {
          if (Date.now() > deadline) {
            sweep.unfinished = true;
            return;
          }
          const page = await indexKeysBelow("gsi2", partition, graceCutoff(now), SWEEP_PAGE, startKey);
          await inParallel(page.keys, SWEEP_ORDERS_PER_SLICE, async (entry) => {
            const orderId = String(entry.pk).slice(keys.order("").pk.length);
            sweep.examined++;
            try {
              const result = await expirePayment(orderId, now, who);
              if (result.changed) sweep.canceled.push(result.order.orderId);
            } catch (error) {
              // One stuck or throttled order must not stop the sweep; it is reported (and alarmed on), and stays in
              // the index, so the next run tries it again.
              if (!(error instanceof DomainError)) throw error;
              sweep.failed.push({ orderId, code: error.code, message: error.message });
            }
          });
          startKey = page.next;
        } while (startKey);
      },
    );
  } finally {
    await lease.release();
  }
  return sweep;
}

export interface ReservationDrift {
  skuId: string;
  /** The stock shard (0: the SKU's main item). */
  shard: number;
  recorded: number;
  expected: number;
  corrected: boolean;
}

/** Parallel Scan segments of the reconciliation: its two scans read the table four slices at a time. */
const SCAN_SEGMENTS = 4;

const shardKey = (skuId: string, shard: number) => `${skuId}\u0000${shard}`;

/**
 * Recomputes each stock shard's `reserved` as the sum of the quantities of the order lines held on it (orders whose
 * reservation is still HELD) and reports every shard where the counter differs (`shard` 0 is the SKU's main item).
 * With `fix`, a drifted counter is set to the recomputed value, conditional on the shard's `stockVersion` being
 * the one read (any reservation, release or stock change since, even ones that cancel out, makes that fix skip,
 * reported as not corrected; run again). Both scans run in parallel segments and keep only per-shard sums, so
 * memory grows with the number of SKU shards, not of orders. Returns undefined when another run holds the lease.
 */
export async function reconcileReservations(options: { fix?: boolean } = {}): Promise<ReservationDrift[] | undefined> {
  const lease = await acquireLease("ReconcileReservations", 15 * 60_000);
  if (!lease) return undefined;
  try {
    // SKUs first, then orders: a reservation that commits or is released between the two reads changes the
    // shard's counter, so the conditional fix below skips that shard instead of undoing the change.
    const shards = new Map<string, ReservedCounter>();
    await scanEntity(Entity.Sku, ["skuId", "shard", "reserved", "stockVersion"], SCAN_SEGMENTS, (sku) => {
      const shard = Number(sku.shard ?? 0);
      shards.set(shardKey(String(sku.skuId), shard), {
        skuId: String(sku.skuId),
        shard,
        reserved: Number(sku.reserved ?? 0),
        stockVersion: sku.stockVersion,
      });
    });
    const expected = new Map<string, number>();
    await scanEntity(Entity.Order, ["reservationStatus", "items"], SCAN_SEGMENTS, (order) => {
      if (order.reservationStatus !== "HELD") return;
      for (const line of order.items as OrderItem[]) {
        const key = shardKey(line.skuId, line.shard ?? 0);
        expected.set(key, (expected.get(key) ?? 0) + line.qty);
      }
    });
    const drifts: ReservationDrift[] = [];
    for (const [key, sku] of shards) {
      const want = expected.get(key) ?? 0;
      if (sku.reserved === want) continue;
      const corrected = options.fix ? await fixReserved(sku, want) : false;
      drifts.push({ skuId: sku.skuId, shard: sku.shard, recorded: sku.reserved, expected: want, corrected });
    }
    return drifts;
  } finally {
    await lease.release();
  }
}

const fixReserved = (counter: ReservedCounter, want: number): Promise<boolean> =>
  updateIfMet(reservedFixUpdate(counter, want));
