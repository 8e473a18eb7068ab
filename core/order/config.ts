/** How long an order may wait in PAYMENT_PENDING before it is cancelled with reason PAYMENT_TIMEOUT. */
export function paymentWindowSeconds(): number {
  const raw = process.env.ORDERLINE_PAYMENT_WINDOW_SECONDS;
  if (raw === undefined || raw === "") return 30 * 60;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`ORDERLINE_PAYMENT_WINDOW_SECONDS must be a positive number, got ${raw}`);
  return seconds;
}
