import { Cart } from "../../core/cart/index.js";
import { Catalog } from "../../core/catalog/index.js";
import { pathParams } from "../../core/validate.js";
import { type HttpRequest, httpApi, type RouteHandler } from "../http/api.js";

const sku = (r: HttpRequest) => pathParams(r.params, "skuId").skuId;
const cart = (r: HttpRequest) => pathParams(r.params, "cartId").cartId;

/** Reference data other domains own; the order service keeps the read model it needs. */
export const routes: Record<string, RouteHandler> = {
  "PUT /internal/offers/{skuId}": async (r) => ({ status: 200, body: await Catalog.putOffer(sku(r), r.body) }),
  "GET /internal/offers/{skuId}": async (r) => ({ status: 200, body: await Catalog.getOffer(sku(r)) }),
  "PUT /internal/inventory/{skuId}": async (r) => ({ status: 200, body: await Catalog.setStock(sku(r), r.body) }),
  "GET /internal/inventory/{skuId}": async (r) => ({ status: 200, body: await Catalog.getStock(sku(r)) }),
  "PUT /internal/carts/{cartId}": async (r) => ({ status: 200, body: await Cart.put(cart(r), r.body) }),
  "GET /internal/carts/{cartId}": async (r) => ({ status: 200, body: await Cart.get(cart(r)) }),
};

export const handler = httpApi(routes);
