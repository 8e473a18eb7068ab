export { putOffer, getOffer, setStock, getStock, OfferInput, StockInput } from "./sku.js";
export { putCart, getCart, CartInput, OrderLines } from "./cart.js";
