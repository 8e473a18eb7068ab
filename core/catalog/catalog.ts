export { getOffer, getStock, OfferInput, putOffer, StockInput, setStock } from "./sku.js";
