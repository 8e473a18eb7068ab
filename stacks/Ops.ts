import { Duration, type Stack } from "aws-cdk-lib";
import type { HttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as sns from "aws-cdk-lib/aws-sns";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { type App, type Function as SstFunction, type StackContext, use } from "sst/constructs";
import { Api } from "./Api.js";
import { Events } from "./Events.js";
import { METRICS_NAMESPACE, serviceDimension } from "./observability.js";

const FIVE_MINUTES = Duration.minutes(5);
const ONE_MINUTE = Duration.minutes(1);

/** A count the handlers emit (Powertools EMF), selected by its `service` dimension. */
const serviceCount = (metricName: string, period = FIVE_MINUTES) =>
  new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: serviceDimension,
    statistic: "Sum",
    period,
  });

/**
 * A count emitted with one more dimension (`status`, `outcome`): one line per value seen. A search, because the
 * values are open-ended (error codes).
 */
const countBy = (metricName: string, dimension: string) =>
  new cloudwatch.MathExpression({
    expression: `SEARCH('{${METRICS_NAMESPACE},service,${dimension}} MetricName="${metricName}"', 'Sum', 300)`,
    usingMetrics: {},
    label: metricName,
    period: FIVE_MINUTES,
  });

/** The order-domain seed metrics: checkout outcomes, cancels, rejections by cause, idempotent replays. */
const ORDER_COUNTS = ["order_price_changed_total", "order_out_of_stock_total", "order_idempotent_hit_total"] as const;

/** The metrics the alarms and the dashboard share. */
interface OpsMetrics {
  httpApi: HttpApi;
  api4xx: cloudwatch.IMetric;
  api5xx: cloudwatch.IMetric;
  apiCount: cloudwatch.IMetric;
  api5xxRate: cloudwatch.IMetric;
  publisherIteratorAge: cloudwatch.IMetric;
  publisherErrors: cloudwatch.IMetric;
  dlqDepths: { name: string; depth: cloudwatch.IMetric }[];
  relayDispatchFailed: cloudwatch.IMetric;
  relayAttemptsExceeded: cloudwatch.IMetric;
  paidAfterCancel: cloudwatch.IMetric;
  expiryFailed: cloudwatch.IMetric;
}

function opsMetrics(
  httpApi: HttpApi,
  publisher: SstFunction,
  deadLetterQueues: Record<string, sqs.IQueue>,
): OpsMetrics {
  const api5xx = httpApi.metricServerError({ period: ONE_MINUTE, statistic: "Sum" });
  const apiCount = httpApi.metricCount({ period: ONE_MINUTE, statistic: "SampleCount" });
  return {
    httpApi,
    api4xx: httpApi.metricClientError({ period: ONE_MINUTE, statistic: "Sum" }),
    api5xx,
    apiCount,
    api5xxRate: new cloudwatch.MathExpression({
      expression: "IF(requests > 0, 100 * errors / requests, 0)",
      usingMetrics: { errors: api5xx, requests: apiCount },
      label: "API 5xx rate (%)",
      period: ONE_MINUTE,
    }),
    publisherIteratorAge: publisher.metric("IteratorAge", { statistic: "Maximum", period: ONE_MINUTE }),
    publisherErrors: publisher.metricErrors({ period: FIVE_MINUTES, statistic: "Sum" }),
    dlqDepths: Object.entries(deadLetterQueues).map(([name, queue]) => ({
      name,
      depth: queue.metricApproximateNumberOfMessagesVisible({
        period: ONE_MINUTE,
        statistic: "Maximum",
        label: `${name} DLQ`,
      }),
    })),
    relayDispatchFailed: serviceCount("relay_dispatch_failed_total"),
    relayAttemptsExceeded: serviceCount("relay_attempts_exceeded_total"),
    paidAfterCancel: serviceCount("order_paid_after_cancel_total"),
    expiryFailed: serviceCount("order_expiry_failed_total"),
  };
}

/** The alarms, each notifying `alarmTopic`; missing data (no traffic) never alarms. */
function alarms(stack: Stack, alarmTopic: sns.Topic, m: OpsMetrics): void {
  const notify = new actions.SnsAction(alarmTopic);
  const alarm = (id: string, props: cloudwatch.CreateAlarmOptions & { metric: cloudwatch.IMetric }) => {
    const created = new cloudwatch.Alarm(stack, id, {
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    created.addAlarmAction(notify);
  };
  /** Alarms on any datapoint above zero: each of these counts is an incident on its own. */
  const alarmOnAny = (id: string, metric: cloudwatch.IMetric, alarmDescription: string) =>
    alarm(id, {
      metric,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      alarmDescription,
    });

  // 5xx: more than 5% of requests for 3 of 5 minutes (a single failed request at low volume is not an incident).
  alarm("Api5xxRateAlarm", {
    metric: m.api5xxRate,
    threshold: 5,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    alarmDescription: "API 5xx rate above 5%",
  });
  // The outbox lags: events older than a minute have not reached the bus for 3 minutes in a row.
  alarm("PublisherIteratorAgeAlarm", {
    metric: m.publisherIteratorAge,
    threshold: 60_000,
    evaluationPeriods: 3,
    alarmDescription: "stream publisher is more than 60 s behind the table stream",
  });
  alarmOnAny(
    "PublisherErrorsAlarm",
    m.publisherErrors,
    "stream publisher invocations failed (batches are being retried/bisected)",
  );
  // Anything in a DLQ is an event or record nobody processed: always worth a look.
  for (const { name, depth } of m.dlqDepths)
    alarmOnAny(`${name}DlqDepthAlarm`, depth, `messages waiting in the ${name} dead-letter queue`);
  alarmOnAny(
    "RelayDispatchFailedAlarm",
    m.relayDispatchFailed,
    "a relay could not be sent to its supplier (relay_dispatch_failed_total)",
  );
  alarmOnAny(
    "RelayAttemptsExceededAlarm",
    m.relayAttemptsExceeded,
    "a relay kept failing past the attempt threshold (relay_attempts_exceeded_total)",
  );
  // Money taken for an order that is already cancelled (e.g. paid after its payment window): refund it by hand.
  alarmOnAny(
    "PaidAfterCancelAlarm",
    m.paidAfterCancel,
    "a payment succeeded for a cancelled order: refund needed (order_paid_after_cancel_total)",
  );
  alarmOnAny(
    "PaymentExpiryFailedAlarm",
    m.expiryFailed,
    "an unpaid order could not be cancelled at its payment deadline (order_expiry_failed_total)",
  );
}

function dashboard(app: App, stack: Stack, m: OpsMetrics): cloudwatch.Dashboard {
  const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
    new cloudwatch.GraphWidget({ title, left, right, width: 12 });
  const board = new cloudwatch.Dashboard(stack, "Dashboard", {
    dashboardName: app.logicalPrefixedName("dashboard"),
  });
  board.addWidgets(
    graph("Orders created, by status", [countBy("order_create_total", "status")]),
    graph("Orders cancelled, by status", [countBy("order_cancel_total", "status")]),
  );
  board.addWidgets(
    graph(
      "Checkout rejections and replays",
      ORDER_COUNTS.map((name) => serviceCount(name)),
    ),
    graph("API requests and errors", [m.apiCount, m.api4xx, m.api5xx], [m.api5xxRate]),
  );
  board.addWidgets(
    graph("API latency", [
      m.httpApi.metricLatency({ statistic: "p50", period: ONE_MINUTE }),
      m.httpApi.metricLatency({ statistic: "p99", period: ONE_MINUTE }),
    ]),
    graph("Stream publisher", [m.publisherIteratorAge], [m.publisherErrors]),
  );
  board.addWidgets(
    graph(
      "Dead-letter queue depths",
      m.dlqDepths.map(({ depth }) => depth),
    ),
    graph(
      "Relay dispatch",
      [m.relayDispatchFailed, m.relayAttemptsExceeded],
      [countBy("relay_dispatch_total", "outcome")],
    ),
  );
  return board;
}

/** Dashboard and alarms over the API, the outbox publisher, the DLQs and the relay dispatcher. */
export function Ops({ app, stack }: StackContext) {
  const { api } = use(Api);
  const { publisher, deadLetterQueues } = use(Events);
  const metrics = opsMetrics(api.cdk.httpApi, publisher, deadLetterQueues);

  // Alarm notifications go to one topic; subscribe e-mail/chat to it outside the stack.
  const alarmTopic = new sns.Topic(stack, "AlarmTopic", { displayName: `Orderline ${app.stage} alarms` });
  alarms(stack, alarmTopic, metrics);

  stack.addOutputs({ AlarmTopicArn: alarmTopic.topicArn });
  return { dashboard: dashboard(app, stack, metrics), alarmTopic };
}
