import type { Context, EventBridgeEvent } from "aws-lambda";
import * as z from "zod";
import { DomainError, isRetryable } from "../../core/errors.js";
import { Order } from "../../core/order/index.js";
import { Relay } from "../../core/relay/index.js";
import { lambdaHandler } from "../lambda.js";
import { count, logger } from "../powertools.js";
import { UnusableUpstreamEvent } from "./order-events.js";

const PaymentSucceeded = z.looseObject({ orderId: z.string().min(1) });

/** The relay's shippingInfo from the order: the address snapshot when the order has one, else its address id. */
function shippingInfoOf(order: Awaited<ReturnType<typeof Order.get>>): Record<string, unknown> {
  if (order.shippingAddress) return { ...order.shippingAddress, carrier: null, trackingNumber: null };
  return { addressId: order.shippingAddressId, carrier: null, trackingNumber: null };
}

/**
 * Target of the PaidOrderRelay rule (`orderline.orders` PAYMENT_SUCCEEDED): when a paid order has a line whose SKU
 * an active listing sells, a relay is created for it (`ecommerceOrderId` = the order, `metadata.source` ecommerce)
 * and then dispatched like any relay (stream -> RELAY_CREATED). One relay per ecommerce order (DS-4.1 §8.2): the
 * first dropship line in the order's line order gets it; further dropship lines are not relayed, and are logged
 * and counted (`relay_dropship_line_skipped_total`, alarmable) for a person to handle. A redelivery finds the
 * existing relay (200 path of create) and creates nothing.
 */
export async function apply(
  event: EventBridgeEvent<string, unknown>,
  _context?: Context,
): Promise<{ outcome: string; relayId?: string }> {
  const parsed = PaymentSucceeded.safeParse(event.detail);
  if (!parsed.success) throw new UnusableUpstreamEvent(`malformed order event ${event.id}`);
  const orderId = parsed.data.orderId;
  const who = { actor: "paid-order-relay", requestId: event.id };
  try {
    const order = await Order.get(orderId);
    const dropship: { line: (typeof order.items)[number]; listingId: string }[] = [];
    for (const line of order.items) {
      const listing = await Relay.listingOfSku(line.skuId);
      if (listing) dropship.push({ line, listingId: listing.listingId });
    }
    if (dropship.length === 0) return { outcome: "not_dropship" };
    const [first, ...rest] = dropship;
    const { relay, created } = await Relay.create(
      {
        listingId: first!.listingId,
        quantity: first!.line.qty,
        ecommerceOrderId: orderId,
        customerInfo: { userId: order.userId },
        shippingInfo: shippingInfoOf(order),
        metadata: { source: "ecommerce" },
      },
      who,
    );
    for (const skipped of rest) {
      count("relay_dropship_line_skipped_total");
      logger.error("order has more than one dropship line; only the first is relayed (one relay per order)", {
        order_id: orderId,
        relay_id: relay.relayId,
        sku_id: skipped.line.skuId,
        listing_id: skipped.listingId,
      });
    }
    logger.info(created ? "relay created for a paid order" : "paid order already has its relay", {
      order_id: orderId,
      relay_id: relay.relayId,
    });
    return { outcome: created ? "created" : "existing", relayId: relay.relayId };
  } catch (error) {
    if (isRetryable(error)) throw error;
    if (error instanceof DomainError) {
      count("relay_from_order_failed_total", { reason: error.code });
      logger.error("could not relay a paid order", { order_id: orderId, code: error.code, detail: error.message });
      throw new UnusableUpstreamEvent(`order event ${event.id}: ${error.code}`);
    }
    throw error;
  }
}

export const handler = lambdaHandler(apply);
