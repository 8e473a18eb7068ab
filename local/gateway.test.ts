import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { routeGroups } from "../functions/routes.js";
import { createGateway } from "./gateway.js";

// Every route group's handler answers with the time its invocation context says is left.
vi.mock("./lambda.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("./lambda.js")>();
  return {
    ...actual,
    importHandler: async () => async (_event: unknown, context: Context) => ({
      statusCode: 200,
      body: String(context.getRemainingTimeInMillis()),
    }),
  };
});

let gateway: Server;
let url: string;

beforeAll(async () => {
  gateway = createGateway();
  await new Promise<void>((resolve) => gateway.listen(0, "127.0.0.1", () => resolve()));
  url = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
});

afterAll(async () => {
  gateway.closeAllConnections();
  await new Promise((resolve) => gateway.close(resolve));
});

describe("local gateway", () => {
  it("gives each invocation the deployed timeout of its route group", async () => {
    for (const [path, group] of [
      ["/api/v1/orders/o-1", routeGroups.orders],
      ["/internal/relays/r-1", routeGroups.relays],
    ] as const) {
      const left = Number(await (await fetch(`${url}${path}`)).text());
      expect(left, path).toBeLessThanOrEqual(group.timeoutSeconds * 1000);
      expect(left, path).toBeGreaterThan(group.timeoutSeconds * 1000 - 1_000);
    }
    expect(routeGroups.orders.timeoutSeconds).not.toBe(routeGroups.relays.timeoutSeconds);
  });
});
