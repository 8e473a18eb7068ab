import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A real supplier endpoint on 127.0.0.1 whose answers the test controls, per listing (the relay payload names
 * its listing, so concurrent tests never share behaviour): accept, fail with a 5xx, hang past the timeout,
 * refuse with a reason, or answer 4xx without one. Every request is recorded with its headers and exact body.
 */
export type Behaviour = "accept" | "fail" | "hang" | "refuse-no-reason" | { refuse: string };

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown>;
  path: string;
  at: number;
}

export interface FakeSupplier {
  url: string;
  received: Received[];
  /** Requests for one relay, oldest first. */
  requestsFor(relayId: string): Received[];
  /** The standing behaviour for a listing's relays (default `accept`). */
  behave(listingId: string, behaviour: Behaviour): void;
  /** One-off behaviours for the next requests of a listing, then the standing one again. */
  script(listingId: string, behaviours: Behaviour[]): void;
  stop(): Promise<void>;
}

export async function startSupplier(): Promise<FakeSupplier> {
  const received: Received[] = [];
  const standing = new Map<string, Behaviour>();
  const scripts = new Map<string, Behaviour[]>();
  const hanging = new Set<ServerResponse>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(body) as Record<string, unknown>;
      } catch {
        // recorded as is
      }
      received.push({ headers: req.headers, body, json, path: req.url ?? "/", at: Date.now() });
      const listingId = String(json.listingId ?? "");
      const behaviour = scripts.get(listingId)?.shift() ?? standing.get(listingId) ?? "accept";
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(payload));
      };
      if (behaviour === "accept") reply(202, { accepted: true, supplierOrderId: `so-${json.relayId as string}` });
      else if (behaviour === "fail") reply(503, { error: "temporarily unavailable" });
      else if (behaviour === "refuse-no-reason") reply(400, { error: "bad request" });
      else if (behaviour === "hang") hanging.add(res);
      else reply(422, { reason: behaviour.refuse });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    received,
    requestsFor: (relayId) => received.filter((r) => r.headers["idempotency-key"] === relayId),
    behave: (listingId, behaviour) => void standing.set(listingId, behaviour),
    script: (listingId, behaviours) => void scripts.set(listingId, [...behaviours]),
    stop: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
