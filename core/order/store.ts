import { Entity, keys } from "../store/table.js";
import { createPut, type TransactItem } from "../store/transact.js";
import type { Order, OrderEventsItem } from "./model.js";

/**
 * The writes of an order's items (the order, its history, its idempotency key): the domain decides what changes,
 * these say it to DynamoDB. They are actions of the one transaction a checkout or a transition commits.
 */

/**
 * Claims the idempotency key for `order`. A key already claimed cancels the transaction with the stored item
 * (ALL_OLD), so the caller can replay the order it created or refuse a different request.
 */
export function idempotencyPut(tableName: string, order: Order, requestHash: string): TransactItem {
  return {
    Put: {
      ...createPut(tableName, {
        ...keys.idempotency(order.idempotencyKey),
        entity: Entity.Idempotency,
        orderId: order.orderId,
        requestHash,
        createdAt: order.createdAt,
      }),
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    },
  };
}

/** The new order, listed under its user (gsi1) and its payment deadline (gsi2). */
export function orderPut(tableName: string, order: Order): TransactItem {
  return {
    Put: createPut(tableName, {
      ...keys.order(order.orderId),
      entity: Entity.Order,
      gsi1pk: keys.ordersByUser(order.userId),
      gsi1sk: order.orderId,
      gsi2pk: keys.paymentDeadline(order.orderId),
      gsi2sk: `${order.paymentDueAt}#${order.orderId}`,
      ...order,
    }),
  };
}

/**
 * The item holding the events of one change. It only creates, so two writers that both believed they held version
 * n cannot both append from seq n + 1.
 */
export function orderEventsPut(tableName: string, events: OrderEventsItem): TransactItem {
  return {
    Put: createPut(tableName, { ...keys.orderEvent(events.orderId, events.seq), entity: Entity.OrderEvent, ...events }),
  };
}

/**
 * Moves the order from `from` to `to`, guarded by the version and status it was planned from: a concurrent writer
 * makes this action (and so the whole transaction) fail. `externalRef` is recorded so that a second delivery of the
 * same external event is recognised; leaving PAYMENT_PENDING takes the order off the deadline index (gsi2).
 */
export function orderStatusUpdate(tableName: string, from: Order, to: Order, externalRef?: string): TransactItem {
  const values: Record<string, unknown> = {
    ":status": to.status,
    ":version": to.version,
    ":expectedVersion": from.version,
    ":expectedStatus": from.status,
    ":updatedAt": to.updatedAt,
    ":reservationStatus": to.reservationStatus,
    ":paymentDueAt": to.paymentDueAt,
    ":cancelReason": to.cancelReason,
  };
  let update =
    "SET #status = :status, #version = :version, updatedAt = :updatedAt, reservationStatus = :reservationStatus, paymentDueAt = :paymentDueAt, cancelReason = :cancelReason";
  if (externalRef) {
    update += ", appliedExternalEvents = list_append(if_not_exists(appliedExternalEvents, :none), :ref)";
    values[":none"] = [];
    values[":ref"] = [externalRef];
  }
  if (to.paymentDueAt === null) update += " REMOVE gsi2pk, gsi2sk";
  return {
    Update: {
      TableName: tableName,
      Key: keys.order(from.orderId),
      UpdateExpression: update,
      ConditionExpression: "#version = :expectedVersion AND #status = :expectedStatus",
      ExpressionAttributeNames: { "#status": "status", "#version": "version" },
      ExpressionAttributeValues: values,
    },
  };
}
