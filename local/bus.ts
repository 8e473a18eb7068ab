import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Context } from "aws-lambda";
import { Backoff } from "../core/retry.js";
import { eventRules, RULE_TARGET_TIMEOUT_SECONDS } from "../functions/events/rules.js";
import { problem } from "../functions/http/problem.js";
import type { LocalRoute } from "./gateway.js";
import { importHandler, lambdaContext } from "./lambda.js";
import { type CompiledPattern, compilePattern, matches } from "./pattern.js";

export const LOCAL_ACCOUNT = "000000000000";
export const LOCAL_REGION = "local";

/** The event as EventBridge delivers it to a target. */
export interface BusEvent {
  version: "0";
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export type EventHandler = (event: BusEvent, context: Context) => unknown;

/** A rule as `functions/events/rules.ts` declares it; `handler` is SST notation or, in tests, a function. */
export interface BusRule {
  name: string;
  pattern: Record<string, unknown>;
  handler: string | EventHandler;
}

/** One PutEvents entry as the SDK sends it (awsJson1_1: `Time` is epoch seconds on the wire). */
export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Time?: Date | number | string;
  Resources?: string[];
  TraceHeader?: string;
}

export type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export interface PutEventsResult {
  FailedEntryCount: number;
  Entries: PutEventsResultEntry[];
}

export interface DeadLetter {
  rule: string;
  event: BusEvent;
  attempts: number;
  error: string;
  at: string;
}

export interface Delivery {
  eventId: string;
  rule: string;
  status: "pending" | "delivered" | "dead-lettered";
  attempts: number;
}

export interface LocalBusOptions {
  /** The rules events are delivered to; default: `eventRules` from functions/events/rules.ts. */
  rules?: readonly BusRule[];
  /**
   * What happens when a target handler throws: `retries` more attempts (default 2, as Lambda's asynchronous
   * invocation does) after waits of the service's one {@link Backoff} policy (first wait up to `baseDelayMs`,
   * default 200), then the event goes to `deadLetters`.
   */
  retry?: { retries?: number; baseDelayMs?: number };
  /** Accepted `EventBusName`s (names or ARNs ending in `event-bus/<name>`); no entry or "default" is always accepted. Default: any. */
  busNames?: readonly string[];
  log?: (line: string) => void;
}

/** A PutEvents request that the service rejects as a whole (HTTP 400 with `__type`). */
export class BusRequestError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;
const MAX_BODY_BYTES = 1024 * 1024;

/** ISO 8601 without milliseconds, as EventBridge writes `time`. */
function eventTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function parseTime(value: PutEventsEntry["Time"]): Date | undefined {
  if (value === undefined || value === null) return new Date();
  const date = value instanceof Date ? value : typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function entrySize(entry: PutEventsEntry): number {
  // "Calculating PutEvents event entry size": Time counts 14 bytes, then Source, DetailType, Detail and Resources.
  let size = entry.Time === undefined ? 0 : 14;
  for (const text of [
    entry.Source,
    entry.DetailType,
    entry.Detail,
    ...(Array.isArray(entry.Resources) ? entry.Resources : []),
  ]) {
    if (typeof text === "string") size += Buffer.byteLength(text);
  }
  return size;
}

const isNonEmptyString = (v: unknown): v is string => typeof v === "string" && v.length > 0;
const invalidArgument = (name: string) => ({
  ErrorCode: "InvalidArgument",
  ErrorMessage: `Parameter ${name} is not valid. Reason: ${name} is a required argument.`,
});

interface Stored {
  seq: number;
  event: BusEvent;
}

interface Waiter {
  test: (event: BusEvent) => boolean;
  resolve: (event: BusEvent) => void;
}

type EventFilter = { source?: string; detailType?: string } | ((event: BusEvent) => boolean);

/**
 * The local EventBridge: accepts PutEvents over HTTP exactly as `@aws-sdk/client-eventbridge` sends it, keeps
 * every event, and delivers each one asynchronously to every rule whose pattern matches, calling the rule's
 * handler like a Lambda target (retries, then a local dead-letter list).
 */
export class LocalBus {
  readonly deadLetters: DeadLetter[] = [];
  private readonly stored: Stored[] = [];
  private readonly deliveryLog: Delivery[] = [];
  private readonly rules: { rule: BusRule; test: CompiledPattern }[];
  private readonly retries: number;
  private readonly baseDelayMs: number;
  private readonly busNames: Set<string> | undefined;
  private readonly log: (line: string) => void;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly sleeps = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private waiters: Waiter[] = [];
  private server: Server | undefined;
  private url: string | undefined;
  private seq = 0;
  private closed = false;

  constructor(options: LocalBusOptions = {}) {
    // Compile every pattern now, so a rule the local matcher cannot evaluate fails at start, not silently later.
    this.rules = (options.rules ?? eventRules).map((rule) => ({ rule, test: compilePattern(rule.pattern) }));
    this.retries = options.retry?.retries ?? 2;
    this.baseDelayMs = options.retry?.baseDelayMs ?? 200;
    this.busNames = options.busNames ? new Set(options.busNames) : undefined;
    this.log = options.log ?? ((line) => console.warn(`[bus] ${line}`));
  }

  /** Starts the PutEvents endpoint on a loopback port (0 = any free one); resolves to its URL. */
  async listen(port = 0, host = "127.0.0.1"): Promise<string> {
    const server = createServer((req, res) => void this.serve(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    this.url = `http://${host}:${address.port}`;
    return this.url;
  }

  /** The PutEvents endpoint (for `new EventBridgeClient({ endpoint })`). */
  get endpoint(): string {
    if (!this.url) throw new Error("the local bus is not listening");
    return this.url;
  }

  /** PutEvents, in process: validates, stores and schedules delivery exactly like the HTTP endpoint. */
  putEvents(entries: readonly PutEventsEntry[]): PutEventsResult {
    if (this.closed) throw new BusRequestError("ServiceUnavailableException", "the local bus is stopped");
    if (!Array.isArray(entries) || entries.length < 1) {
      throw new BusRequestError(
        "ValidationException",
        "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    }
    if (entries.length > MAX_ENTRIES) {
      throw new BusRequestError(
        "ValidationException",
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES}`,
      );
    }
    if (entries.reduce((sum, e) => sum + entrySize(e ?? {}), 0) > MAX_REQUEST_BYTES) {
      throw new BusRequestError("ValidationException", "Total size of the entries in the request is over the limit.");
    }
    const accepted: BusEvent[] = [];
    const results = entries.map((entry): PutEventsResultEntry => {
      const outcome = this.toEvent(entry ?? {});
      if ("ErrorCode" in outcome) return outcome;
      accepted.push(outcome);
      return { EventId: outcome.id };
    });
    for (const event of accepted) this.store(event);
    // Delivery is asynchronous, as in EventBridge: the caller has its answer before any target runs.
    if (accepted.length > 0)
      setImmediate(() => {
        for (const event of accepted) this.dispatch(event);
      });
    return { FailedEntryCount: entries.length - accepted.length, Entries: results };
  }

  /** Every event that went through the bus, oldest first. */
  events(filter: EventFilter = {}): BusEvent[] {
    const test =
      typeof filter === "function"
        ? filter
        : (e: BusEvent) =>
            (filter.source === undefined || e.source === filter.source) &&
            (filter.detailType === undefined || e["detail-type"] === filter.detailType);
    return this.stored.map((s) => s.event).filter(test);
  }

  /**
   * Resolves with the first event (already on the bus or still to come) that satisfies `predicate`, which is a
   * function or an EventBridge event pattern; rejects after `timeoutMs`.
   */
  waitFor(predicate: ((event: BusEvent) => boolean) | Record<string, unknown>, timeoutMs = 5000): Promise<BusEvent> {
    const test = typeof predicate === "function" ? predicate : (event: BusEvent) => matches(predicate, event);
    const found = this.stored.find((s) => test(s.event));
    if (found) return Promise.resolve(found.event);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        test,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(`no matching event on the local bus within ${timeoutMs} ms (${this.stored.length} events seen)`),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** What happened to each (event, rule) delivery so far. */
  deliveries(eventId?: string): Delivery[] {
    return eventId === undefined ? [...this.deliveryLog] : this.deliveryLog.filter((d) => d.eventId === eventId);
  }

  /** Resolves once no delivery is running or waiting for a retry. */
  async idle(): Promise<void> {
    // setImmediate-scheduled dispatches land in inFlight on the next turn: yield once before looking.
    await new Promise((r) => setImmediate(r));
    while (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight]);
      await new Promise((r) => setImmediate(r));
    }
  }

  /** `GET /_local/events?source=&detailType=&limit=&cursor=`, served by the main gateway. */
  readonly route: LocalRoute = async (req, url) => {
    if (url.pathname !== "/_local/events" || req.method !== "GET") return undefined;
    const invalid = (path: string, message: string) => ({
      status: 400,
      body: problem("VALIDATION_ERROR", message, { errors: [{ path, message }] }),
    });
    const q = url.searchParams;
    // Like every list of the API, an unknown parameter (a typo such as `detail_type`) is refused, not ignored.
    const unknown = [...q.keys()].find(
      (key) => !["limit", "cursor", "source", "detailType", "detail-type"].includes(key),
    );
    if (unknown !== undefined) return invalid(unknown, `unknown query parameter ${unknown}`);
    const limitText = q.get("limit");
    const limit = limitText === null ? 20 : Number(limitText);
    if (!/^\d+$/.test(limitText ?? "20") || !Number.isInteger(limit) || limit < 1 || limit > 100)
      return invalid("limit", "limit must be an integer from 1 to 100");
    let after = 0;
    const cursor = q.get("cursor");
    if (cursor !== null && cursor !== "") {
      const decoded = decodeCursor(cursor);
      if (decoded === undefined) return invalid("cursor", "cursor is not valid for this list");
      after = decoded;
    }
    const source = q.get("source") ?? undefined;
    const detailType = q.get("detailType") ?? q.get("detail-type") ?? undefined;
    const items: BusEvent[] = [];
    let last = after;
    let more = false;
    for (const s of this.stored) {
      if (s.seq <= after) continue;
      if ((source && s.event.source !== source) || (detailType && s.event["detail-type"] !== detailType)) continue;
      if (items.length === limit) {
        more = true;
        break;
      }
      items.push(s.event);
      last = s.seq;
    }
    return { status: 200, body: { items, nextCursor: more ? encodeCursor(last) : null } };
  };

  /** Stops the endpoint, abandons pending retries and waits (bounded) for running handlers. */
  async close(): Promise<void> {
    this.closed = true;
    for (const sleep of this.sleeps) {
      clearTimeout(sleep.timer);
      sleep.wake();
    }
    if (this.server) {
      const server = this.server;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await Promise.race([this.idle(), new Promise((r) => setTimeout(r, 5000).unref())]);
  }

  private toEvent(entry: PutEventsEntry): BusEvent | { ErrorCode: string; ErrorMessage: string } {
    if (!isNonEmptyString(entry.Source)) return invalidArgument("Source");
    if (!isNonEmptyString(entry.DetailType)) return invalidArgument("DetailType");
    if (!isNonEmptyString(entry.Detail)) return invalidArgument("Detail");
    if (entry.Source.startsWith("aws."))
      return { ErrorCode: "NotAuthorizedForSourceException", ErrorMessage: "Not authorized for the source." };
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      detail = undefined;
    }
    if (typeof detail !== "object" || detail === null || Array.isArray(detail))
      return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." };
    const busName = entry.EventBusName;
    if (this.busNames && busName !== undefined && busName !== "" && busName !== "default") {
      const name = busName.startsWith("arn:") ? busName.slice(busName.lastIndexOf("/") + 1) : busName;
      if (!this.busNames.has(name) && !this.busNames.has(busName)) {
        return { ErrorCode: "ResourceNotFoundException", ErrorMessage: `Event bus ${name} does not exist.` };
      }
    }
    if (
      entry.Resources !== undefined &&
      (!Array.isArray(entry.Resources) || !entry.Resources.every((r) => typeof r === "string"))
    ) {
      return {
        ErrorCode: "InvalidArgument",
        ErrorMessage: "Parameter Resources is not valid. Reason: Resources must be a list of strings.",
      };
    }
    const time = parseTime(entry.Time);
    if (!time) return { ErrorCode: "InvalidArgument", ErrorMessage: "Parameter Time is not valid." };
    return {
      version: "0",
      id: randomUUID(),
      "detail-type": entry.DetailType,
      source: entry.Source,
      account: LOCAL_ACCOUNT,
      time: eventTime(time),
      region: LOCAL_REGION,
      resources: entry.Resources ? [...entry.Resources] : [],
      detail: detail as Record<string, unknown>,
    };
  }

  private store(event: BusEvent): void {
    this.stored.push({ seq: ++this.seq, event });
    if (this.waiters.length === 0) return;
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) {
      if (waiter.test(event)) waiter.resolve(event);
      else this.waiters.push(waiter);
    }
  }

  private dispatch(event: BusEvent): void {
    for (const { rule, test } of this.rules) {
      if (!test(event)) continue;
      const record: Delivery = { eventId: event.id, rule: rule.name, status: "pending", attempts: 0 };
      this.deliveryLog.push(record);
      const running = this.deliver(event, rule, record).finally(() => this.inFlight.delete(running));
      this.inFlight.add(running);
    }
  }

  private async deliver(event: BusEvent, rule: BusRule, record: Delivery): Promise<void> {
    const backoff = new Backoff({ baseMs: this.baseDelayMs, maxTries: this.retries + 1, withinInvocation: false });
    let lastError: unknown;
    for (;;) {
      record.attempts = backoff.tries;
      try {
        const handler =
          typeof rule.handler === "function" ? rule.handler : await importHandler<EventHandler>(rule.handler);
        // Each target gets its own copy, as each Lambda invocation gets its own deserialized event.
        await handler(
          structuredClone(event),
          lambdaContext(`orderline-${rule.name}`, RULE_TARGET_TIMEOUT_SECONDS * 1000),
        );
        record.status = "delivered";
        return;
      } catch (error) {
        lastError = error;
      }
      const delay = backoff.nextDelay();
      if (delay === undefined) break;
      this.log(
        `${rule.name} failed on ${event.source}/${event["detail-type"]} ${event.id} (attempt ${record.attempts}): ${describe(lastError)}`,
      );
      await this.sleep(delay);
      if (this.closed) {
        lastError = new Error(`the local bus stopped before a retry (last error: ${describe(lastError)})`);
        break;
      }
    }
    record.status = "dead-lettered";
    this.deadLetters.push({
      rule: rule.name,
      event,
      attempts: record.attempts,
      error: describe(lastError),
      at: new Date().toISOString(),
    });
    this.log(
      `dead letter: ${rule.name} gave up on ${event.source}/${event["detail-type"]} ${event.id} after ${record.attempts} attempts: ${describe(lastError)}`,
    );
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.sleeps.delete(entry);
          resolve();
        }, ms),
        wake: () => {
          this.sleeps.delete(entry);
          resolve();
        },
      };
      this.sleeps.add(entry);
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const reply = (status: number, body: unknown, errorType?: string) => {
      res.writeHead(status, {
        "content-type": "application/x-amz-json-1.1",
        "x-amzn-requestid": requestId,
        ...(errorType ? { "x-amzn-errortype": errorType } : {}),
      });
      res.end(JSON.stringify(body));
    };
    const fail = (status: number, type: string, message: string) => reply(status, { __type: type, message }, type);
    try {
      if (req.method !== "POST" || (req.url ?? "/").split("?")[0] !== "/") {
        req.resume();
        return fail(
          404,
          "UnknownOperationException",
          `the local bus only answers POST / (got ${req.method} ${req.url})`,
        );
      }
      const target = req.headers["x-amz-target"];
      if (target !== "AWSEvents.PutEvents") {
        req.resume();
        return fail(
          400,
          "UnknownOperationException",
          `the local bus implements AWSEvents.PutEvents only (got ${String(target)})`,
        );
      }
      const body = await readBody(req);
      if (body === undefined)
        return fail(413, "ValidationException", "Total size of the entries in the request is over the limit.");
      let input: { Entries?: unknown };
      try {
        input = JSON.parse(body.toString("utf8")) as { Entries?: unknown };
      } catch {
        return fail(400, "SerializationException", "the request body is not valid JSON");
      }
      if (typeof input !== "object" || input === null)
        return fail(400, "SerializationException", "the request body is not a JSON object");
      reply(200, this.putEvents((input.Entries ?? []) as PutEventsEntry[]));
    } catch (error) {
      if (error instanceof BusRequestError)
        return fail(error.type === "ServiceUnavailableException" ? 503 : 400, error.type, error.message);
      this.log(`PutEvents failed: ${describe(error)}`);
      if (!res.headersSent) fail(500, "InternalException", "the local bus failed");
    }
  }
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function encodeCursor(seq: number): string {
  return Buffer.from(JSON.stringify({ after: seq }), "utf8").toString("base64url");
}

function decodeCursor(cursor: string): number | undefined {
  try {
    const decoded = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    const after = (decoded as { after?: unknown } | null)?.after;
    return typeof after === "number" && Number.isInteger(after) && after >= 0 ? after : undefined;
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
