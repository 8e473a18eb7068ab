import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
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

async function call(url: string, method: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method,
    headers: { "content-type": "application/json", "x-actor": "demo-supplier" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

/** Starts the server, registers it with Orderline (`PUT /internal/suppliers/{id}`) and takes a fresh secret. */
export async function startDemoSupplier(options: DemoSupplierOptions): Promise<DemoSupplier> {
  const supplierId = options.supplierId ?? "demo-supplier";
  const log = options.log ?? (() => undefined);
  const maxQuantity = options.maxQuantity ?? 10;
  const stepDelayMs = options.stepDelayMs ?? 1000;
  const received: ReceivedRelay[] = [];
  const pending = new Set<Promise<void>>();
  let webhook: Webhook | undefined;

  async function callBack(relay: ReceivedRelay, type: string, extra: Record<string, unknown> = {}): Promise<void> {
    await sleep(stepDelayMs);
    const body = JSON.stringify({ type, relayId: relay.relayId, ...extra });
    const id = `msg_${randomUUID()}`;
    const now = new Date();
    const signature = webhook!.sign(id, now, body);
    const response = await fetch(`${options.orderlineUrl}/webhooks/suppliers/${supplierId}`, {
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
    relay.callbacks.push({ type, status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined });
    log(`supplier -> orderline ${type} for ${relay.relayId}: ${response.status} ${text}`);
  }

  function fulfil(relay: ReceivedRelay): void {
    const run = (async () => {
      await callBack(relay, "relay.accepted");
      await callBack(relay, "relay.shipped", {
        shippingInfo: { carrier: "CJ", trackingNumber: `DEMO-${relay.relayId.slice(-8)}` },
      });
      await callBack(relay, "relay.delivered");
    })().catch((error: unknown) => log(`callback failed for ${relay.relayId}: ${String(error)}`));
    pending.add(run);
    void run.finally(() => pending.delete(run));
  }

  const server: Server = createServer(async (request, response) => {
    const body = await readBody(request);
    const answer = (status: number, payload: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(payload));
    };
    if (request.method !== "POST" || request.url !== "/orders") return answer(404, { reason: "unknown path" });
    let relay: { relayId: string; quantity: number };
    try {
      relay = webhook!.verify(body, request.headers as Record<string, string>) as { relayId: string; quantity: number };
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
    fulfil(record);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? "127.0.0.1"}:${port}`;

  const registered = await call(`${options.orderlineUrl}/internal/suppliers/${supplierId}`, "PUT", {
    name: options.name ?? "Demo Supplier",
    endpointUrl: `${url}/orders`,
  });
  if (registered.status !== 200)
    throw new Error(`registering the supplier failed: ${registered.status} ${JSON.stringify(registered.body)}`);
  const issued = await call(`${options.orderlineUrl}/internal/suppliers/${supplierId}/secret`, "POST");
  if (issued.status !== 200)
    throw new Error(`issuing the secret failed: ${issued.status} ${JSON.stringify(issued.body)}`);
  const secret = (issued.body as { secret: string }).secret;
  webhook = new Webhook(secret);
  log(`demo supplier ${supplierId} listening on ${url}/orders (secret issued; refuses more than ${maxQuantity} units)`);

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
