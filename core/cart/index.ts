export * as Cart from "./cart.js";
