import { Duration, RemovalPolicy } from "aws-cdk-lib";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as destinations from "aws-cdk-lib/aws-lambda-destinations";
import { DynamoEventSource, SqsDlq } from "aws-cdk-lib/aws-lambda-event-sources";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { type Function as SstFunction, type StackContext, use } from "sst/constructs";
import { adminFunctions } from "../functions/admin/functions.js";
import { eventRules, RULE_TARGET_TIMEOUT_SECONDS } from "../functions/events/rules.js";
import { scheduledJobs } from "../functions/scheduled/jobs.js";
import { streamPublisher } from "../functions/stream/publisher-source.js";
import { Data } from "./Data.js";
import { orderlineFunction } from "./functions.js";
import { eventBusName, stagePolicy } from "./naming.js";
import type { SupplierSecret } from "./secrets.js";

/** How long a failed event or record is kept for inspection and redrive (the SQS maximum). */
const DLQ_RETENTION = Duration.days(14);

/**
 * Event-rule targets: EventBridge retries delivery (throttling, Lambda unavailable) for up to a day, then Lambda
 * retries a handler that threw (infrastructure faults only; business outcomes never throw) twice. Both failure
 * paths end in the rule's DLQ, so one queue per rule holds everything that rule could not process.
 */
const RULE_DELIVERY = { retryAttempts: 8, maxEventAge: Duration.hours(24) } as const;
const RULE_HANDLER_RETRIES = { retryAttempts: 2, maxEventAge: Duration.hours(6) } as const;

/** Table actions beyond read/readWrite, by admin function, with the reason. */
const ADMIN_EXTRA_TABLE_ACTIONS: Record<string, readonly string[]> = {
  // Recomputes every SKU's reserved counter from all live orders: a (filtered) Scan of the table.
  ReconcileReservations: ["dynamodb:Scan"],
};

/**
 * Reserved concurrency, by handler, where a cap protects something. It is also the most these functions can run
 * at once, and the account pool loses it (the unreserved pool must stay >= 100: an account needs a concurrency
 * quota of at least 100 + the sum of these).
 */
const RESERVED_CONCURRENCY: Record<string, number> = {
  // Each invocation calls a supplier: at most 10 calls in flight to suppliers, however fast relays are created.
  // Events beyond it wait in Lambda's async queue (retried up to RULE_HANDLER_RETRIES.maxEventAge, then the DLQ).
  "functions/relay/dispatch.handler": 10,
  // Two runs never overlap: a run still going when the next tick fires makes that tick a throttled no-op.
  "functions/scheduled/expire-payments.handler": 1,
  // Two reconciliations at once would each write counters computed from a different snapshot.
  "functions/admin/reconcile.handler": 1,
};

/** What every function of this stack is built with. */
interface EventsScope {
  ctx: StackContext;
  secret: SupplierSecret;
  reserved: ReservedConcurrency;
}

/** Hands out RESERVED_CONCURRENCY by handler and remembers which entries were used. */
class ReservedConcurrency {
  private readonly seen = new Set<string>();

  /** The props that cap `handler`, or none when it has no entry. */
  of(handler: string): { reservedConcurrentExecutions?: number } {
    if (!(handler in RESERVED_CONCURRENCY)) return {};
    this.seen.add(handler);
    return { reservedConcurrentExecutions: RESERVED_CONCURRENCY[handler] };
  }

  /** Every entry must have been met by now: a renamed handler fails synth instead of silently losing its cap. */
  assertAllUsed(): void {
    const missing = Object.keys(RESERVED_CONCURRENCY).filter((handler) => !this.seen.has(handler));
    if (missing.length > 0)
      throw new Error(`RESERVED_CONCURRENCY names handlers no function uses: ${missing.join(", ")}`);
  }
}

function deadLetterQueue({ app, stack }: StackContext, id: string): sqs.Queue {
  return new sqs.Queue(stack, id, {
    retentionPeriod: DLQ_RETENTION,
    enforceSSL: true,
    // Stated, not left to the account's default: SQS-managed SSE (no key to manage, no KMS calls to pay for).
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    // In a protected stage a DLQ may hold the only copy of an event nobody processed: it outlives the stack.
    removalPolicy: stagePolicy(app.stage).retainOnDelete ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
}

/** One function, DLQ and rule per event rule; returns the DLQs by rule name. */
function ruleTargets({ ctx, secret, reserved }: EventsScope, bus: events.EventBus): Record<string, sqs.IQueue> {
  const deadLetterQueues: Record<string, sqs.IQueue> = {};
  for (const rule of eventRules) {
    const fn = orderlineFunction(ctx, `${rule.name}Target`, secret, {
      handler: rule.handler,
      table: rule.table,
      description: rule.description,
      timeout: `${RULE_TARGET_TIMEOUT_SECONDS} seconds`,
      ...reserved.of(rule.handler),
    });
    const dlq = deadLetterQueue(ctx, `${rule.name}Dlq`);
    fn.configureAsyncInvoke({ ...RULE_HANDLER_RETRIES, onFailure: new destinations.SqsDestination(dlq) });
    new events.Rule(ctx.stack, `${rule.name}Rule`, {
      eventBus: bus,
      description: rule.description,
      // Patterns are raw EventBridge JSON ("detail-type" etc.); CDK passes unknown keys through unchanged.
      eventPattern: rule.pattern as events.EventPattern,
      targets: [new targets.LambdaFunction(fn, { ...RULE_DELIVERY, deadLetterQueue: dlq })],
    });
    deadLetterQueues[rule.name] = dlq;
  }
  return deadLetterQueues;
}

/**
 * The outbox relay from the table stream to the bus. Only committed OrderEvent/RelayAudit inserts are events; the
 * filter keeps every other write (orders, stock, carts, TTL deletes) from invoking the function at all.
 */
function streamPublisherFunction(
  { ctx, secret }: EventsScope,
  bus: events.EventBus,
  table: dynamodb.ITable,
): { publisher: SstFunction; dlq: sqs.IQueue } {
  const publisher = orderlineFunction(ctx, "StreamPublisher", secret, {
    handler: streamPublisher.handler,
    table: "none",
    description: "publishes committed OrderEvent/RelayAudit items from the table stream to the event bus",
    timeout: `${streamPublisher.timeoutSeconds} seconds`,
    environment: { ORDERLINE_EVENT_BUS: bus.eventBusName },
  });
  bus.grantPutEventsTo(publisher);
  const dlq = deadLetterQueue(ctx, "StreamPublisherDlq");
  publisher.addEventSource(
    new DynamoEventSource(table, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      // A failing batch is halved until the poison record is alone, and the handler reports the records it
      // could not publish, so one bad record never holds back a shard for longer than the retries below.
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      // Up to 10 concurrent batches per stream shard. Lambda still delivers the records of one partition key in
      // order (and an order's events share its partition key), so each order's events stay in order.
      parallelizationFactor: 10,
      retryAttempts: 5,
      maxRecordAge: Duration.days(1),
      onFailure: new SqsDlq(dlq),
      filters: [lambda.FilterCriteria.filter(structuredClone(streamPublisher.filter) as Record<string, unknown>)],
    }),
  );
  return { publisher, dlq };
}

/** One function and schedule rule per scheduled job. */
function scheduledJobFunctions({ ctx, secret, reserved }: EventsScope): void {
  for (const job of scheduledJobs) {
    const fn = orderlineFunction(ctx, `${job.name}Job`, secret, {
      handler: job.handler,
      table: "readWrite",
      description: job.description,
      timeout: `${job.timeoutSeconds} seconds`,
      ...reserved.of(job.handler),
    });
    // A missed or failed tick is harmless (the next one, a minute later, sweeps the same work), so no DLQ, no
    // Lambda retry, and a tick throttled by the reserved concurrency is dropped after a minute instead of waiting
    // in Lambda's async queue (6 hours by default) to run after later ticks.
    fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    new events.Rule(ctx.stack, `${job.name}Schedule`, {
      description: job.description,
      schedule: events.Schedule.expression(job.schedule),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 2, maxEventAge: Duration.minutes(1) })],
    });
  }
}

/** The functions admins invoke directly, by name. */
function adminFunctionsByName({ ctx, secret, reserved }: EventsScope): Record<string, SstFunction> {
  const admin: Record<string, SstFunction> = {};
  for (const spec of adminFunctions) {
    admin[spec.name] = orderlineFunction(ctx, `${spec.name}Admin`, secret, {
      handler: spec.handler,
      table: "readWrite",
      extraTableActions: ADMIN_EXTRA_TABLE_ACTIONS[spec.name],
      description: spec.description,
      timeout: `${spec.timeoutSeconds} seconds`,
      ...reserved.of(spec.handler),
    });
  }
  return admin;
}

/**
 * The event bus, its rules and their targets, the stream publisher (the outbox relay from the table stream to
 * the bus), the scheduled jobs and the admin functions.
 */
export function Events(ctx: StackContext) {
  const { app, stack } = ctx;
  const { table, supplierSigningSecret } = use(Data);
  const scope: EventsScope = { ctx, secret: supplierSigningSecret, reserved: new ReservedConcurrency() };

  const bus = new events.EventBus(stack, "Bus", { eventBusName: eventBusName(app) });
  /** Every DLQ by a readable name; Ops alarms on each of them. */
  const deadLetterQueues = ruleTargets(scope, bus);
  const { publisher, dlq } = streamPublisherFunction(scope, bus, table);
  deadLetterQueues.StreamPublisher = dlq;
  scheduledJobFunctions(scope);
  const admin = adminFunctionsByName(scope);
  scope.reserved.assertAllUsed();

  stack.addOutputs({
    EventBusName: bus.eventBusName,
    ...Object.fromEntries(Object.entries(admin).map(([name, fn]) => [`${name}FunctionName`, fn.functionName])),
  });
  return { bus, publisher, deadLetterQueues };
}
