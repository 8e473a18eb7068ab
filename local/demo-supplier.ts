import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { sleep } from "../core/retry.js";

/**
 * A demo dropship supplier: what a supplier integrating with Orderline does, on this machine. It verifies every
 * relay Orderline sends with the Standard Webhooks library (an implementation independent of Orderline's), refuses
 * what it cannot fill (quantity above `maxQuantity`: 422 with a reason, so the relay is cancelled), accepts the
 * rest, and then reports progress back through `POST /webhooks/suppliers/{supplierId}`, signed with the same secret:
 * relay.accepted, relay.shipped (carrier and tracking number), relay.delivered.
 */
export interface DemoSupplierOptions {
  orderlineUrl: string;
  supplierId?: string;
  name?: string;
  port?: number;
  host?: string;
  /** Orders above this quantity are refused (default 10). */
  maxQuantity?: number;
  /** Pause before each callback, so the steps can be watched (default 1000 ms). */
  stepDelayMs?: number;
  log?: (line: string) => void;
}

export interface ReceivedRelay {
  relayId: string;
  verified: boolean;
  answer: number;
  /** What Orderline answered each callback: `type -> status`. */
  callbacks: { type: string; status: number; body: unknown }[];
}

export interface DemoSupplier {
  url: string;
  supplierId: string;
  /** The `whsec_` secret Orderline issued for this supplier. */
  secret: string;
  received: ReceivedRelay[];
  /** Resolves when every callback sent so far has been answered. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const jsonOrUndefined = (text: string): unknown => (text ? (JSON.parse(text) as unknown) : undefined);

async function call(url: string, method: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method,
    headers: { "content-type": "application/json", "x-actor": "demo-supplier" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: jsonOrUndefined(await response.text()) };
}

/** What the request handler and the callbacks share. */
interface Supplier {
  orderlineUrl: string;
  supplierId: string;
  maxQuantity: number;
  stepDelayMs: number;
  log: (line: string) => void;
  received: ReceivedRelay[];
  /** Callback runs not finished yet. */
  pending: Set<Promise<void>>;
  /** Signs and verifies with the secret Orderline issued: set once the server is listening and registered. */
  webhook?: Webhook;
}

/** Reports one step of a relay to Orderline, signed as Standard Webhooks, after the step delay. */
async function callBack(
  supplier: Supplier,
  relay: ReceivedRelay,
  type: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await sleep(supplier.stepDelayMs);
  const body = JSON.stringify({ type, relayId: relay.relayId, ...extra });
  const id = `msg_${randomUUID()}`;
  const now = new Date();
  const signature = supplier.webhook!.sign(id, now, body);
  const response = await fetch(`${supplier.orderlineUrl}/webhooks/suppliers/${supplier.supplierId}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
      "webhook-signature": signature,
    },
    body,
  });
  const text = await response.text();
  relay.callbacks.push({ type, status: response.status, body: jsonOrUndefined(text) });
  supplier.log(`supplier -> orderline ${type} for ${relay.relayId}: ${response.status} ${text}`);
}

/** Accepted, shipped, delivered: in the background, tracked in `pending`. */
function fulfil(supplier: Supplier, relay: ReceivedRelay): void {
  const run = (async () => {
    await callBack(supplier, relay, "relay.accepted");
    await callBack(supplier, relay, "relay.shipped", {
      shippingInfo: { carrier: "CJ", trackingNumber: `DEMO-${relay.relayId.slice(-8)}` },
    });
    await callBack(supplier, relay, "relay.delivered");
  })().catch((error: unknown) => supplier.log(`callback failed for ${relay.relayId}: ${String(error)}`));
  supplier.pending.add(run);
  void run.finally(() => supplier.pending.delete(run));
}

/** `POST /orders`: verifies the relay's signature, refuses what it cannot fill, accepts and fulfils the rest. */
function orderEndpoint(supplier: Supplier): RequestListener {
  const { log, maxQuantity, received } = supplier;
  return async (request, response) => {
    const body = await readBody(request);
    const answer = (status: number, payload: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(payload));
    };
    if (request.method !== "POST" || request.url !== "/orders") return answer(404, { reason: "unknown path" });
    let relay: { relayId: string; quantity: number };
    try {
      relay = supplier.webhook!.verify(body, request.headers as Record<string, string>) as typeof relay;
    } catch {
      received.push({ relayId: "?", verified: false, answer: 401, callbacks: [] });
      log("orderline -> supplier: signature did not verify; refused with 401");
      return answer(401, { reason: "bad signature" });
    }
    const record: ReceivedRelay = { relayId: relay.relayId, verified: true, answer: 200, callbacks: [] };
    received.push(record);
    if (relay.quantity > maxQuantity) {
      record.answer = 422;
      log(`orderline -> supplier: relay ${relay.relayId} x${relay.quantity} refused (more than ${maxQuantity})`);
      return answer(422, { reason: `cannot supply more than ${maxQuantity} units` });
    }
    log(`orderline -> supplier: relay ${relay.relayId} x${relay.quantity} verified and accepted`);
    answer(200, { accepted: true });
    fulfil(supplier, record);
  };
}

/** Registers the supplier's endpoint with Orderline (`PUT /internal/suppliers/{id}`) and takes a fresh secret. */
async function register(supplier: Supplier, name: string, endpointUrl: string): Promise<string> {
  const base = `${supplier.orderlineUrl}/internal/suppliers/${supplier.supplierId}`;
  const registered = await call(base, "PUT", { name, endpointUrl });
  if (registered.status !== 200)
    throw new Error(`registering the supplier failed: ${registered.status} ${JSON.stringify(registered.body)}`);
  const issued = await call(`${base}/secret`, "POST");
  if (issued.status !== 200)
    throw new Error(`issuing the secret failed: ${issued.status} ${JSON.stringify(issued.body)}`);
  return (issued.body as { secret: string }).secret;
}

/** Starts the server, registers it with Orderline (`PUT /internal/suppliers/{id}`) and takes a fresh secret. */
export async function startDemoSupplier(options: DemoSupplierOptions): Promise<DemoSupplier> {
  const supplier: Supplier = {
    orderlineUrl: options.orderlineUrl,
    supplierId: options.supplierId ?? "demo-supplier",
    maxQuantity: options.maxQuantity ?? 10,
    stepDelayMs: options.stepDelayMs ?? 1000,
    log: options.log ?? (() => undefined),
    received: [],
    pending: new Set(),
  };
  const server: Server = createServer(orderEndpoint(supplier));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? "127.0.0.1"}:${port}`;

  const secret = await register(supplier, options.name ?? "Demo Supplier", `${url}/orders`);
  supplier.webhook = new Webhook(secret);
  supplier.log(
    `demo supplier ${supplier.supplierId} listening on ${url}/orders (secret issued; refuses more than ${supplier.maxQuantity} units)`,
  );

  const { supplierId, received, pending } = supplier;
  return {
    url,
    supplierId,
    secret,
    received,
    async idle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    async stop() {
      await Promise.allSettled([...pending]);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
