import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type Shard,
  type ShardIteratorType,
  type AttributeValue as StreamAttributeValue,
  type _Record as StreamRecord,
} from "@aws-sdk/client-dynamodb-streams";
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { streamPublisher } from "../functions/stream/publisher-source.js";
import { importHandler, invoke, lambdaContext } from "./lambda.js";
import { type CompiledPattern, compilePattern } from "./pattern.js";

/** A handler that reports no failures may return nothing, as aws-lambda's `DynamoDBStreamHandler` allows. */
export type StreamHandler = (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse | undefined | null> | Promise<void>;

/**
 * The event-source filter of the deployed stream mapping (Lambda event filtering, same pattern syntax as
 * EventBridge): only inserted outbox items reach the publisher.
 */
export const publisherFilter = streamPublisher.filter;

export interface FailedBatchRecord {
  shardId: string;
  sequenceNumber: string;
  record: DynamoDBRecord;
  attempts: number;
  error: string;
  at: string;
}

export interface StreamPollerOptions {
  /** DynamoDB (Local) endpoint; the streams API is served on the same endpoint. */
  endpoint: string;
  tableName: string;
  /** The batch handler: SST handler string or a function. Default: `streamPublisher.handler` (publisher-source.ts). */
  handler?: string | StreamHandler;
  /**
   * Where to start reading the shards open at start: `LATEST` (default; only what is written from now on) or
   * `TRIM_HORIZON` (everything still in the stream: right for a table the runtime created itself).
   * Shards that appear later (splits) are always read from TRIM_HORIZON, so nothing written after start is missed.
   */
  startAt?: "LATEST" | "TRIM_HORIZON";
  /** Idle poll interval (default 100 ms); a poll that found records is followed immediately by the next. */
  intervalMs?: number;
  /** Records per handler call (default 100, Lambda's batch size). */
  batchSize?: number;
  /**
   * Retries of a failing record before it goes to `onFailure`. Default 3, fewer than the deployed mapping's
   * MaximumRetryAttempts (5, stacks/Events.ts): pass 5 to reproduce how long AWS keeps retrying.
   */
  maxRetries?: number;
  /** Delay before a retry (default 100 ms). */
  retryDelayMs?: number;
  /** Lambda event filter applied to each record; default {@link publisherFilter}; `null` delivers everything. */
  filter?: Record<string, unknown> | null;
  functionName?: string;
  log?: (line: string) => void;
}

interface Pending {
  seq: string;
  record: DynamoDBRecord;
}

interface ShardState {
  id: string;
  parentId: string | undefined;
  /** Iterator type to use when the shard becomes readable (undefined once positioned). */
  initial: ShardIteratorType | undefined;
  iterator: string | undefined;
  /** The last sequence number read from the stream (for re-positioning after an expired iterator). */
  lastRead: string | undefined;
  /** No more records will come from the stream (NextShardIterator was null). */
  ended: boolean;
  queue: Pending[];
  /** Bisect state: the next batch holds at most this many records (reset to batchSize after a success). */
  batchLimit: number;
  failing: { seq: string; count: number } | undefined;
  retryAt: number;
}

const credentials = { accessKeyId: "local", secretAccessKey: "local" };

const ATTRIBUTE_TYPES = ["S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"] as const;

/**
 * AttributeValue as Lambda serializes it to JSON: binary values are base64 strings. DynamoDB Local's stream sends an
 * empty map as `{}` instead of `{"M":{}}` (at the top level and nested), which `unmarshall` refuses ("No value
 * defined"): the publisher then failed the record until it was dropped. A value with no type is that empty map.
 */
function toLambdaValue(value: StreamAttributeValue): Record<string, unknown> {
  const v = value as unknown as Record<string, unknown>;
  if (!ATTRIBUTE_TYPES.some((type) => v[type] !== undefined)) return { M: {} };
  if (v.B instanceof Uint8Array) return { B: Buffer.from(v.B).toString("base64") };
  if (Array.isArray(v.BS)) return { BS: (v.BS as Uint8Array[]).map((b) => Buffer.from(b).toString("base64")) };
  if (v.M && typeof v.M === "object") return { M: toLambdaImage(v.M as Record<string, StreamAttributeValue>) };
  if (Array.isArray(v.L)) return { L: (v.L as StreamAttributeValue[]).map(toLambdaValue) };
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(v)) if (inner !== undefined && key !== "$unknown") out[key] = inner;
  return out;
}

function toLambdaImage(image: Record<string, StreamAttributeValue> | undefined): Record<string, unknown> | undefined {
  if (!image) return undefined;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(image)) out[name] = toLambdaValue(value);
  return out;
}

/** The record exactly as the Lambda DynamoDB event source delivers it. */
export function toLambdaRecord(record: StreamRecord, streamArn: string, region: string): DynamoDBRecord {
  const d = record.dynamodb ?? {};
  const dynamodb: Record<string, unknown> = {};
  if (d.ApproximateCreationDateTime)
    dynamodb.ApproximateCreationDateTime = d.ApproximateCreationDateTime.getTime() / 1000;
  dynamodb.Keys = toLambdaImage(d.Keys);
  if (d.NewImage) dynamodb.NewImage = toLambdaImage(d.NewImage);
  if (d.OldImage) dynamodb.OldImage = toLambdaImage(d.OldImage);
  dynamodb.SequenceNumber = d.SequenceNumber;
  dynamodb.SizeBytes = d.SizeBytes;
  dynamodb.StreamViewType = d.StreamViewType;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: record.awsRegion ?? region,
    dynamodb,
    eventSourceARN: streamArn,
    ...(record.userIdentity ? { userIdentity: { ...record.userIdentity } } : {}),
  } as DynamoDBRecord;
}

function errorName(error: unknown): string {
  return (error as { name?: string } | undefined)?.name ?? "";
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The local stream poller: reads the table's DynamoDB stream on DynamoDB Local and calls the stream handler with
 * the batches Lambda's event source mapping would send (filter, batch size, ReportBatchItemFailures, bisect on
 * function error, bounded retries, on-failure destination), one batch per shard at a time, a child shard only
 * after its parent is drained.
 */
export class StreamPoller {
  /** Records given up on after their retries (the local on-failure destination). */
  readonly onFailure: FailedBatchRecord[] = [];
  private readonly ddb: DynamoDBClient;
  private readonly streams: DynamoDBStreamsClient;
  private readonly region: string;
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly maxRetries: number;
  private readonly retryDelayMs: number;
  private readonly filter: CompiledPattern | undefined;
  private readonly functionName: string;
  private readonly log: (line: string) => void;
  private readonly shards = new Map<string, ShardState>();
  private streamArn: string | undefined;
  private handler: StreamHandler | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private lastDescribe = 0;
  private lastError: { text: string; at: number } | undefined;
  private drainWaiters: { afterTick: number; resolve: () => void }[] = [];
  private ticks = 0;
  private shardEnded = false;
  private delivered = 0;

  constructor(private readonly options: StreamPollerOptions) {
    this.region = process.env.AWS_REGION ?? "local";
    this.ddb = new DynamoDBClient({ endpoint: options.endpoint, region: this.region, credentials });
    this.streams = new DynamoDBStreamsClient({ endpoint: options.endpoint, region: this.region, credentials });
    this.intervalMs = options.intervalMs ?? 100;
    this.batchSize = options.batchSize ?? 100;
    this.maxRetries = options.maxRetries ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 100;
    const filter = options.filter === undefined ? publisherFilter : options.filter;
    this.filter = filter === null ? undefined : compilePattern(filter);
    this.functionName = options.functionName ?? "orderline-StreamPublisher";
    this.log = options.log ?? ((line) => console.warn(`[poller] ${line}`));
  }

  /** The stream being read (after `start`). */
  get arn(): string | undefined {
    return this.streamArn;
  }

  /** Records handed to the handler and settled so far (successes only). */
  get deliveredCount(): number {
    return this.delivered;
  }

  /** Finds the stream, positions on its shards and starts polling; records written after this resolves are delivered. */
  async start(): Promise<void> {
    const table = await this.ddb.send(new DescribeTableCommand({ TableName: this.options.tableName }));
    const arn = table.Table?.LatestStreamArn;
    if (!arn || table.Table?.StreamSpecification?.StreamEnabled === false)
      throw new Error(`table ${this.options.tableName} has no stream enabled`);
    this.streamArn = arn;
    const startAt = this.options.startAt ?? "LATEST";
    for (const shard of await this.describeShards()) {
      const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
      if (startAt === "LATEST" && closed) continue; // already history
      const state = this.track(shard, startAt);
      // Position LATEST iterators now, so that whatever is written after start() resolves is seen.
      if (startAt === "LATEST") await this.position(state);
    }
    this.schedule(0);
  }

  /**
   * Resolves after a poll that started after this call found nothing new and left nothing to deliver: everything
   * written before the call has been handed to the handler (or dropped to `onFailure`).
   */
  drained(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter = {
        afterTick: this.ticks,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.drainWaiters = this.drainWaiters.filter((w) => w !== waiter);
        reject(new Error(`the stream poller did not drain within ${timeoutMs} ms`));
      }, timeoutMs);
      this.drainWaiters.push(waiter);
    });
  }

  /** Stops polling; a batch being delivered finishes first (waiting at most 10 s). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.race([this.ticking?.catch(() => undefined), new Promise((r) => setTimeout(r, 10_000).unref())]);
    this.ddb.destroy();
    this.streams.destroy();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .then((busy) => this.schedule(busy ? 0 : this.intervalMs))
        .catch((error: unknown) => {
          this.report(`poll failed: ${describe(error)}`);
          this.schedule(Math.max(this.intervalMs, 500));
        });
    }, delayMs);
  }

  private track(shard: Shard, initial: ShardIteratorType): ShardState {
    const state: ShardState = {
      id: shard.ShardId!,
      parentId: shard.ParentShardId,
      initial,
      iterator: undefined,
      lastRead: undefined,
      ended: false,
      queue: [],
      batchLimit: this.batchSize,
      failing: undefined,
      retryAt: 0,
    };
    this.shards.set(state.id, state);
    return state;
  }

  private async describeShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const out = await this.streams.send(
        new DescribeStreamCommand({ StreamArn: this.streamArn, ExclusiveStartShardId: start }),
      );
      shards.push(...(out.StreamDescription?.Shards ?? []));
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    this.lastDescribe = Date.now();
    return shards;
  }

  private async position(state: ShardState): Promise<void> {
    const type: ShardIteratorType = state.lastRead ? "AFTER_SEQUENCE_NUMBER" : (state.initial ?? "TRIM_HORIZON");
    const out = await this.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.streamArn,
        ShardId: state.id,
        ShardIteratorType: type,
        SequenceNumber: state.lastRead,
      }),
    );
    state.iterator = out.ShardIterator;
    state.initial = undefined;
    if (!state.iterator) state.ended = true;
  }

  /** A shard is read only once its parent (if still known) is completely delivered, as Lambda keeps per-key order. */
  private ready(state: ShardState): boolean {
    const parent = state.parentId ? this.shards.get(state.parentId) : undefined;
    return !parent || (parent.ended && parent.queue.length === 0);
  }

  /** One poll over every shard; true when there may be more to do right away. */
  private async tick(): Promise<boolean> {
    if (this.stopped) return false;
    const tick = ++this.ticks;
    // New shards appear when one is split or rolled over: look for them every second and as soon as one ends.
    if (this.shards.size === 0 || this.shardEnded || Date.now() - this.lastDescribe > 1000) {
      this.shardEnded = false;
      for (const shard of await this.describeShards()) {
        if (!this.shards.has(shard.ShardId!)) this.track(shard, "TRIM_HORIZON");
      }
    }
    let busy = false;
    let pendingWork = false;
    for (const state of [...this.shards.values()]) {
      if (this.stopped) break;
      if (!this.ready(state)) {
        pendingWork = true;
        continue;
      }
      if (!state.ended && state.queue.length < this.batchSize) {
        if (await this.read(state)) busy = true;
      }
      if (state.queue.length > 0 && Date.now() >= state.retryAt) {
        await this.deliver(state);
        busy ||= state.queue.length > 0 && state.retryAt <= Date.now();
      }
      if (state.queue.length > 0) pendingWork = true;
    }
    if (!busy && !pendingWork && this.drainWaiters.length > 0) {
      const done = this.drainWaiters.filter((w) => w.afterTick < tick);
      this.drainWaiters = this.drainWaiters.filter((w) => w.afterTick >= tick);
      for (const waiter of done) waiter.resolve();
    }
    return busy;
  }

  /** GetRecords once; true when records came back. */
  private async read(state: ShardState): Promise<boolean> {
    if (!state.iterator) await this.position(state);
    if (!state.iterator) return false;
    let out: GetRecordsCommandOutput;
    try {
      out = await this.streams.send(new GetRecordsCommand({ ShardIterator: state.iterator, Limit: 1000 }));
    } catch (error) {
      const name = errorName(error);
      if (name === "ExpiredIteratorException" || name === "TrimmedDataAccessException") {
        state.iterator = undefined;
        if (name === "TrimmedDataAccessException") state.lastRead = undefined;
        return true;
      }
      if (name === "ResourceNotFoundException") {
        state.ended = true;
        this.report(`shard ${state.id} is gone: ${describe(error)}`);
        return false;
      }
      throw error;
    }
    const records = out.Records ?? [];
    for (const raw of records) {
      const record = toLambdaRecord(raw, this.streamArn!, this.region);
      state.lastRead = raw.dynamodb?.SequenceNumber ?? state.lastRead;
      if (this.filter && !this.filter(record)) continue;
      state.queue.push({ seq: raw.dynamodb!.SequenceNumber!, record });
    }
    state.iterator = out.NextShardIterator;
    if (!state.iterator) {
      state.ended = true;
      this.shardEnded = true;
    }
    return records.length > 0;
  }

  /** Delivers the head batch of a shard and settles it like Lambda's event source mapping. */
  private async deliver(state: ShardState): Promise<void> {
    const batch = state.queue.slice(0, Math.min(this.batchSize, state.batchLimit));
    let firstFailed: number | undefined;
    let thrown = false;
    let reason = "";
    try {
      // Loaded on first use: a module that fails to load fails the batch, like a Lambda init error.
      this.handler ??= await this.loadHandler();
      const context = lambdaContext(this.functionName, streamPublisher.timeoutSeconds * 1000);
      const result = await this.handler({ Records: batch.map((p) => p.record) }, context);
      const failures = result?.batchItemFailures ?? [];
      if (failures.length > 0) {
        const indexes = failures.map((f) =>
          f.itemIdentifier ? batch.findIndex((p) => p.seq === f.itemIdentifier) : -1,
        );
        // An identifier that is empty or not in the batch fails the whole batch, as in Lambda.
        firstFailed = indexes.some((i) => i < 0) ? 0 : Math.min(...indexes);
        reason = "reported in batchItemFailures";
      }
    } catch (error) {
      firstFailed = 0;
      thrown = true;
      reason = describe(error);
    }
    if (firstFailed === undefined) {
      state.queue.splice(0, batch.length);
      this.delivered += batch.length;
      state.batchLimit = this.batchSize;
      state.failing = undefined;
      return;
    }
    // Checkpoint what succeeded before the first failure; redeliver from the failed record.
    state.queue.splice(0, firstFailed);
    this.delivered += firstFailed;
    if (thrown && batch.length > 1) {
      // BisectBatchOnFunctionError: split the failing batch and retry the halves (does not count as a retry).
      state.batchLimit = Math.ceil(batch.length / 2);
      return;
    }
    const head = state.queue[0]!;
    const count = state.failing?.seq === head.seq ? state.failing.count + 1 : 1;
    if (count > this.maxRetries) {
      state.queue.shift();
      state.failing = undefined;
      state.batchLimit = this.batchSize;
      this.onFailure.push({
        shardId: state.id,
        sequenceNumber: head.seq,
        record: head.record,
        attempts: count,
        error: reason,
        at: new Date().toISOString(),
      });
      this.log(`on-failure: record ${head.seq} of shard ${state.id} dropped after ${count} attempts (${reason})`);
      return;
    }
    state.failing = { seq: head.seq, count };
    state.retryAt = Date.now() + this.retryDelayMs;
  }

  private async loadHandler(): Promise<StreamHandler> {
    const handler = this.options.handler ?? streamPublisher.handler;
    if (typeof handler !== "function") return importHandler<StreamHandler>(handler);
    return (event, context) => invoke(handler, event, context);
  }

  /** Logs an error, but the same one at most every 5 s (DynamoDB Local down, etc.). */
  private report(text: string): void {
    const now = Date.now();
    if (this.lastError?.text === text && now - this.lastError.at < 5000) return;
    this.lastError = { text, at: now };
    this.log(text);
  }
}
