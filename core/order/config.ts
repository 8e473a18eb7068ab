import { config } from "../config.js";

/** How long past its deadline an unpaid order is left before the sweep cancels it (core/config.ts says why). */
export const paymentGraceSeconds = (): number => config().paymentGraceSeconds;

/** How long an order may wait in PAYMENT_PENDING before it is cancelled with reason PAYMENT_TIMEOUT. */
export const paymentWindowSeconds = (): number => config().paymentWindowSeconds;
