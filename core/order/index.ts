export * as Order from "./order.js";
