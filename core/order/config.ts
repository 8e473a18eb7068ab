/**
 * How long past its deadline an unpaid order is left before the sweep cancels it (default 10 minutes). A payment
 * event that met throttling is redelivered by EventBridge / Lambda for a few minutes; the grace outlasts that, so a
 * payment that was made in time is never beaten by the payment timeout.
 */
export function paymentGraceSeconds(): number {
  const raw = process.env.ORDERLINE_PAYMENT_GRACE_SECONDS;
  if (raw === undefined || raw === "") return 10 * 60;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new Error(`ORDERLINE_PAYMENT_GRACE_SECONDS must be a number >= 0, got ${raw}`);
  return seconds;
}

/** How long an order may wait in PAYMENT_PENDING before it is cancelled with reason PAYMENT_TIMEOUT. */
export function paymentWindowSeconds(): number {
  const raw = process.env.ORDERLINE_PAYMENT_WINDOW_SECONDS;
  if (raw === undefined || raw === "") return 30 * 60;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new Error(`ORDERLINE_PAYMENT_WINDOW_SECONDS must be a positive number, got ${raw}`);
  return seconds;
}
