export { CartInput, getCart, OrderLines, putCart } from "./cart.js";
export { getOffer, getStock, OfferInput, putOffer, StockInput, setStock } from "./sku.js";
