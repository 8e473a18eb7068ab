import { Duration } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as destinations from "aws-cdk-lib/aws-lambda-destinations";
import { DynamoEventSource, SqsDlq } from "aws-cdk-lib/aws-lambda-event-sources";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { use, type Function, type StackContext } from "sst/constructs";
import { adminFunctions, eventRules, scheduledJobs, streamPublisher } from "../functions/events/rules.js";
import { Data } from "./Data.js";
import { orderlineFunction } from "./functions.js";
import { eventBusName } from "./naming.js";

/** How long a failed event or record is kept for inspection and redrive (the SQS maximum). */
const DLQ_RETENTION = Duration.days(14);

/**
 * Event-rule targets: EventBridge retries delivery (throttling, Lambda unavailable) for up to a day, then Lambda
 * retries a handler that threw (infrastructure faults only; business outcomes never throw) twice. Both failure
 * paths end in the rule's DLQ, so one queue per rule holds everything that rule could not process.
 */
const RULE_DELIVERY = { retryAttempts: 8, maxEventAge: Duration.hours(24) } as const;
const RULE_HANDLER_RETRIES = { retryAttempts: 2, maxEventAge: Duration.hours(6) } as const;

/** Job and admin timeouts: a sweep or a reconciliation scan runs longer than a request. */
const JOB_TIMEOUT = "2 minutes";
const ADMIN_TIMEOUT = "5 minutes";

/** Table actions beyond read/readWrite, by admin function, with the reason. */
const ADMIN_EXTRA_TABLE_ACTIONS: Record<string, readonly string[]> = {
  // Recomputes every SKU's reserved counter from all live orders: a (filtered) Scan of the table.
  ReconcileReservations: ["dynamodb:Scan"],
};

function deadLetterQueue({ stack }: StackContext, id: string): sqs.Queue {
  return new sqs.Queue(stack, id, { retentionPeriod: DLQ_RETENTION, enforceSSL: true });
}

/**
 * The event bus, its rules and their targets, the stream publisher (the outbox relay from the table stream to
 * the bus), the scheduled jobs and the admin functions.
 */
export function Events(ctx: StackContext) {
  const { app, stack } = ctx;
  const { table, supplierSigningSecret } = use(Data);

  const bus = new events.EventBus(stack, "Bus", { eventBusName: eventBusName(app) });

  /** Every DLQ by a readable name; Ops alarms on each of them. */
  const deadLetterQueues: Record<string, sqs.IQueue> = {};

  for (const rule of eventRules) {
    const fn = orderlineFunction(ctx, `${rule.name}Target`, supplierSigningSecret, {
      handler: rule.handler,
      table: rule.table,
      description: rule.description,
      timeout: "30 seconds",
    });
    const dlq = deadLetterQueue(ctx, `${rule.name}Dlq`);
    fn.configureAsyncInvoke({ ...RULE_HANDLER_RETRIES, onFailure: new destinations.SqsDestination(dlq) });
    new events.Rule(stack, `${rule.name}Rule`, {
      eventBus: bus,
      description: rule.description,
      // Patterns are raw EventBridge JSON ("detail-type" etc.); CDK passes unknown keys through unchanged.
      eventPattern: rule.pattern as events.EventPattern,
      targets: [new targets.LambdaFunction(fn, { ...RULE_DELIVERY, deadLetterQueue: dlq })],
    });
    deadLetterQueues[rule.name] = dlq;
  }

  // The outbox relay. Only committed OrderEvent/RelayAudit inserts are events; the filter keeps every other
  // write (orders, stock, carts, TTL deletes) from invoking the function at all.
  const publisher = orderlineFunction(ctx, "StreamPublisher", supplierSigningSecret, {
    handler: streamPublisher.handler,
    table: "none",
    description: "publishes committed OrderEvent/RelayAudit items from the table stream to the event bus",
    timeout: "30 seconds",
    environment: { ORDERLINE_EVENT_BUS: bus.eventBusName },
  });
  bus.grantPutEventsTo(publisher);
  const streamDlq = deadLetterQueue(ctx, "StreamPublisherDlq");
  publisher.addEventSource(
    new DynamoEventSource(table, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      // A failing batch is halved until the poison record is alone, and the handler reports the records it
      // could not publish, so one bad record never holds back a shard for longer than the retries below.
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: 5,
      maxRecordAge: Duration.days(1),
      onFailure: new SqsDlq(streamDlq),
      filters: [lambda.FilterCriteria.filter(structuredClone(streamPublisher.filter) as Record<string, unknown>)],
    }),
  );
  deadLetterQueues.StreamPublisher = streamDlq;

  for (const job of scheduledJobs) {
    const fn = orderlineFunction(ctx, `${job.name}Job`, supplierSigningSecret, {
      handler: job.handler,
      table: "readWrite",
      description: job.description,
      timeout: JOB_TIMEOUT,
    });
    // A missed or failed tick is harmless (the next one, a minute later, sweeps the same work), so a short event
    // age, no DLQ and no Lambda retry that would overlap the next tick.
    fn.configureAsyncInvoke({ retryAttempts: 0 });
    new events.Rule(stack, `${job.name}Schedule`, {
      description: job.description,
      schedule: events.Schedule.expression(job.schedule),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 2, maxEventAge: Duration.minutes(1) })],
    });
  }

  const admin: Record<string, Function> = {};
  for (const spec of adminFunctions) {
    admin[spec.name] = orderlineFunction(ctx, `${spec.name}Admin`, supplierSigningSecret, {
      handler: spec.handler,
      table: "readWrite",
      extraTableActions: ADMIN_EXTRA_TABLE_ACTIONS[spec.name],
      description: spec.description,
      timeout: ADMIN_TIMEOUT,
    });
  }

  stack.addOutputs({
    EventBusName: bus.eventBusName,
    ...Object.fromEntries(Object.entries(admin).map(([name, fn]) => [`${name}FunctionName`, fn.functionName])),
  });
  return { bus, publisher, deadLetterQueues };
}
