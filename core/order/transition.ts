import * as z from "zod";
import { consumeLineUpdate, releaseLineUpdate } from "../catalog/store-reservations.js";
import { ConcurrencyError, InvalidTransitionError, NotFoundError } from "../errors.js";
import { replanAfterLostRace } from "../retry.js";
import { type Actor, FreeFormObject, Id } from "../schema.js";
import { db } from "../store/client.js";
import { getItem } from "../store/items.js";
import { keys } from "../store/table.js";
import { type TransactItem, TransactionCancelled, transactWrite } from "../store/transact.js";
import { validate } from "../validate.js";
import { paymentGraceSeconds } from "./config.js";
import { eventPut } from "./history.js";
import { type Order, orderFromItem, type ReservationStatus } from "./model.js";
import { type OrderCommand, plan, type ReservationEffect, type TransitionPlan } from "./status.js";
import { orderStatusUpdate } from "./store.js";

/** Orders whose deadline is before this may be cancelled for PAYMENT_TIMEOUT at `now` (deadline + grace). */
export function graceCutoff(now: Date): string {
  return new Date(now.getTime() - paymentGraceSeconds() * 1000).toISOString();
}

/** Events other services report (contract `POST /internal/orders/{id}/events`). */
export const ExternalOrderEventType = z.enum([
  "PAYMENT_SUCCEEDED",
  "PAYMENT_FAILED",
  "READY_TO_SHIP",
  "SHIPPED",
  "DELIVERED",
  "REFUND_REQUESTED",
  "REFUNDED",
]);

export const ExternalOrderEventInput = z.strictObject({
  type: ExternalOrderEventType,
  externalId: z.string().min(1).max(200).optional(),
  payload: FreeFormObject.optional(),
});
export type ExternalOrderEventInput = z.infer<typeof ExternalOrderEventInput>;

export const CancelInput = z.strictObject({ reason: z.string().min(1).max(500).optional() });

export interface TransitionResult {
  order: Order;
  /** False when the request was a no-op (a duplicate external event, a repeated cancel). */
  changed: boolean;
  /** `from -> to` when the status changed. */
  statusTransition?: string;
}

const MAX_ATTEMPTS = 10;

async function readOrder(orderId: string): Promise<{ order: Order; applied: string[] }> {
  const item = await getItem(keys.order(orderId));
  if (!item) throw new NotFoundError("order", orderId);
  return { order: orderFromItem(item), applied: (item.appliedExternalEvents as string[] | undefined) ?? [] };
}

interface Change {
  command: OrderCommand;
  payload: Record<string, unknown>;
  /** `${type}#${externalId}`: a second delivery of the same external event is a no-op. */
  externalRef?: string;
  cancelReason?: string;
  /** Decides, on the freshly read order, that nothing should happen (and the order is returned unchanged). */
  isNoOp?: (order: Order) => boolean;
}

/**
 * Applies one command to an order as one TransactWriteItems: the status update guarded by the version it was
 * planned from, every event it appends, and its stock effect. A concurrent writer makes the guard fail; the
 * change is then re-planned on the fresh order, so it is applied at most once and never on a stale status.
 */
async function change(orderId: string, c: Change, who: Actor): Promise<TransitionResult> {
  const { tableName } = db();
  const replans = replanAfterLostRace(MAX_ATTEMPTS);
  do {
    const { order, applied } = await readOrder(orderId);
    if (c.externalRef && applied.includes(c.externalRef)) return { order, changed: false };
    if (c.isNoOp?.(order)) return { order, changed: false };

    const planned = planChange(order, c.command);
    const next = changedOrder(order, planned, c.cancelReason, new Date().toISOString());
    try {
      await transactWrite(changeActions(tableName, order, next, planned, c, who));
      return { order: next, changed: true, statusTransition: `${order.status}->${next.status}` };
    } catch (error) {
      if (!(error instanceof TransactionCancelled)) throw error;
      if (error.failed(0)) continue; // someone else changed the order first: re-plan on the fresh state
      throw new ConcurrencyError(`order ${orderId} could not be updated: ${error.message}`);
    }
  } while (await replans.wait());
  throw new ConcurrencyError(`order ${orderId} kept changing; retry the request`);
}

/** What `command` does to `order`; throws INVALID_TRANSITION when its status does not allow it. */
function planChange(order: Order, command: OrderCommand): TransitionPlan {
  const planned = plan(order.status, command, order.reservationStatus === "HELD");
  if (!planned)
    throw new InvalidTransitionError(`${command} is not allowed when the order is ${order.status}`, {
      currentStatus: order.status,
      event: command,
    });
  return planned;
}

/** The reservation status a planned stock effect leaves behind (none keeps the current one). */
const reservationAfter: Record<ReservationEffect, ReservationStatus | undefined> = {
  release: "RELEASED",
  consume: "CONSUMED",
  none: undefined,
};

/** The order as it is once the planned events are applied, at `now`. */
function changedOrder(order: Order, planned: TransitionPlan, cancelReason: string | undefined, now: string): Order {
  const toStatus = planned.events.at(-1)?.toStatus ?? order.status;
  return {
    ...order,
    status: toStatus,
    version: order.version + planned.events.length,
    updatedAt: now,
    paymentDueAt: toStatus === "PAYMENT_PENDING" ? order.paymentDueAt : null,
    reservationStatus: reservationAfter[planned.reservation] ?? order.reservationStatus,
    cancelReason: cancelReason ?? order.cancelReason,
  };
}

/**
 * The actions of one change's transaction. The guarded order update comes first: `change` reads a failure at index
 * 0 as a concurrent writer. Then the events (numbered from the version after the one planned from) and, when the
 * reservation is released or consumed, one stock update per line, on the shard that holds it.
 */
function changeActions(
  tableName: string,
  order: Order,
  next: Order,
  planned: TransitionPlan,
  c: Change,
  who: Actor,
): TransactItem[] {
  const lineUpdate = planned.reservation === "release" ? releaseLineUpdate : consumeLineUpdate;
  const stock = planned.reservation === "none" ? [] : order.items.map((line) => lineUpdate(tableName, line));
  return [
    orderStatusUpdate(tableName, order, next, c.externalRef),
    eventPut(tableName, next, order.version + 1, planned.events, c.payload, who, next.updatedAt),
    ...stock,
  ];
}

/**
 * Applies an event reported by payments or shipments. A second delivery with the same type and `externalId` is
 * a no-op; an event the current status does not allow throws INVALID_TRANSITION and writes nothing.
 */
export async function applyExternalEvent(orderId: string, rawInput: unknown, who: Actor): Promise<TransitionResult> {
  const id = validate(Id, orderId);
  const input = validate(ExternalOrderEventInput, rawInput);
  const payload = { ...input.payload, ...(input.externalId ? { externalId: input.externalId } : {}) };
  return change(
    id,
    {
      command: input.type,
      payload,
      ...(input.externalId ? { externalRef: `${input.type}#${input.externalId}` } : {}),
      ...(input.type === "PAYMENT_FAILED" ? { cancelReason: "PAYMENT_FAILED" } : {}),
    },
    who,
  );
}

/**
 * Cancels an order that has not been paid, releasing its reservation exactly once. Cancelling a cancelled
 * order returns it unchanged.
 */
export async function cancel(orderId: string, rawInput: unknown, who: Actor): Promise<TransitionResult> {
  const id = validate(Id, orderId);
  const { reason } = validate(CancelInput, rawInput ?? {});
  return change(
    id,
    {
      command: "ORDER_CANCELED",
      payload: { reason: reason ?? null },
      cancelReason: reason ?? "CUSTOMER_REQUEST",
      isNoOp: (order) => order.status === "CANCELED",
    },
    who,
  );
}

/**
 * Cancels an order still awaiting payment after its deadline (reason PAYMENT_TIMEOUT). A payment that landed
 * first wins: the order is then no longer PAYMENT_PENDING and this does nothing.
 */
export async function expirePayment(orderId: string, now: Date, who: Actor): Promise<TransitionResult> {
  return change(
    validate(Id, orderId),
    {
      command: "ORDER_CANCELED",
      payload: { reason: "PAYMENT_TIMEOUT" },
      cancelReason: "PAYMENT_TIMEOUT",
      isNoOp: (order) =>
        order.status !== "PAYMENT_PENDING" || !order.paymentDueAt || order.paymentDueAt > graceCutoff(now),
    },
    who,
  );
}
