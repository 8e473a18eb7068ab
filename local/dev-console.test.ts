import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { compactLogLine, countsOf, MetricSummary, parseEmf, rewriteLines } from "./dev-console.js";
import { formatAccessLine } from "./gateway.js";

const emf = (name: string, dims: Record<string, string> = {}, value = 1) =>
  JSON.stringify({
    _aws: {
      Timestamp: 1,
      CloudWatchMetrics: [
        {
          Namespace: "Orderline",
          Dimensions: [["service", ...Object.keys(dims)]],
          Metrics: [{ Name: name, Unit: "Count" }],
        },
      ],
    },
    service: "orderline",
    ...dims,
    [name]: value,
  });

describe("access line", () => {
  it("prints method, path, status, duration and request id on one line, cutting long paths", () => {
    expect(formatAccessLine({ method: "POST", path: "/api/v1/orders", status: 201, ms: 12, requestId: "01REQ" })).toBe(
      "POST /api/v1/orders 201 12 ms 01REQ",
    );
    const long = formatAccessLine({
      method: "GET",
      path: `/api/v1/orders?userId=${"u".repeat(300)}`,
      status: 200,
      ms: 3,
      requestId: "r",
    });
    expect(long.length).toBeLessThan(150);
    expect(long).toMatch(/\.\.\. 200 3 ms r$/);
  });
});

describe("EMF metrics are counted, not printed", () => {
  it("recognizes EMF lines only", () => {
    expect(parseEmf(emf("order_create_total", { status: "created" }))).toBeDefined();
    expect(parseEmf('{"level":"INFO","message":"x"}')).toBeUndefined();
    expect(parseEmf("plain text")).toBeUndefined();
    expect(parseEmf('{"_aws": broken')).toBeUndefined();
  });

  it("labels each count with its dimensions (service left out) and sums them", () => {
    expect(countsOf(parseEmf(emf("order_create_total", { status: "created" }))!)).toEqual([
      ["order_create_total{status=created}", 1],
    ]);
    const summary = new MetricSummary();
    for (const line of [
      emf("order_create_total", { status: "created" }),
      emf("order_create_total", { status: "created" }),
      emf("stream_published_total", {}, 3),
    ])
      summary.add(parseEmf(line)!);
    expect(summary.takeRecent()).toBe("order_create_total{status=created}=2 stream_published_total=3");
    expect(summary.takeRecent()).toBeUndefined();
    summary.add(parseEmf(emf("order_cancel_total", { status: "canceled" }))!);
    expect(summary.takeRecent()).toBe("order_cancel_total{status=canceled}=1");
    expect(summary.totals()).toBe(
      "order_cancel_total{status=canceled}=1 order_create_total{status=created}=2 stream_published_total=3",
    );
  });
});

describe("Powertools log lines are shortened", () => {
  it("keeps level, message and the fields that matter, drops the Lambda context", () => {
    const line = JSON.stringify({
      level: "INFO",
      message: "order created",
      timestamp: "2026-01-01T00:00:00.000Z",
      service: "orderline",
      cold_start: false,
      function_arn: "arn:aws:lambda:local:0:function:orderline-orders",
      function_name: "orderline-orders",
      function_request_id: "x",
      request_id: "01REQ",
      order_id: "01ORD",
      status_transition: "->PAYMENT_PENDING",
      cart_id: null,
    });
    expect(compactLogLine(line)).toBe(
      "[log] INFO order created request_id=01REQ order_id=01ORD status_transition=->PAYMENT_PENDING",
    );
    expect(compactLogLine("not json")).toBeUndefined();
    expect(compactLogLine(emf("x"))).toBeUndefined();
  });

  it("keeps an error's message and stack", () => {
    const line = JSON.stringify({
      level: "ERROR",
      message: "unexpected error",
      service: "orderline",
      error: { name: "TypeError", message: "boom", stack: "TypeError: boom\n    at f (a.ts:1:1)" },
    });
    expect(compactLogLine(line)).toBe("[log] ERROR unexpected error error=TypeError: boom\n    at f (a.ts:1:1)");
  });
});

describe("rewriteLines", () => {
  it("drops, replaces or keeps each whole line written, and passes partial writes through", () => {
    const stream = new PassThrough() as unknown as NodeJS.WriteStream;
    let out = "";
    (stream as unknown as PassThrough).on("data", (chunk: Buffer) => (out += chunk.toString()));
    const restore = rewriteLines(stream, (line) => (line === "drop" ? null : line === "swap" ? "swapped" : undefined));
    stream.write("keep\n");
    stream.write("drop\n");
    stream.write("swap\nkeep too\n");
    stream.write("partial");
    restore();
    stream.write(" end\ndrop\n");
    expect(out).toBe("keep\nswapped\nkeep too\npartial end\ndrop\n");
  });
});
