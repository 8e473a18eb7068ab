import { Catalog } from "../../core/catalog/index.js";
import { httpApi, type RouteHandler } from "../http/api.js";

/** Reference data other domains own; the order service keeps the read model it needs. */
export const routes: Record<string, RouteHandler> = {
  "PUT /internal/offers/{skuId}": async (r) => ({ status: 200, body: await Catalog.putOffer(r.params.skuId ?? "", r.body) }),
  "GET /internal/offers/{skuId}": async (r) => ({ status: 200, body: await Catalog.getOffer(r.params.skuId ?? "") }),
  "PUT /internal/inventory/{skuId}": async (r) => ({ status: 200, body: await Catalog.setStock(r.params.skuId ?? "", r.body) }),
  "GET /internal/inventory/{skuId}": async (r) => ({ status: 200, body: await Catalog.getStock(r.params.skuId ?? "") }),
  "PUT /internal/carts/{cartId}": async (r) => ({ status: 200, body: await Catalog.putCart(r.params.cartId ?? "", r.body) }),
  "GET /internal/carts/{cartId}": async (r) => ({ status: 200, body: await Catalog.getCart(r.params.cartId ?? "") }),
};

export const handler = httpApi(routes);
