import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as sns from "aws-cdk-lib/aws-sns";
import { type StackContext, use } from "sst/constructs";
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

/** Dashboard and alarms over the API, the outbox publisher, the DLQs and the relay dispatcher. */
export function Ops({ app, stack }: StackContext) {
  const { api } = use(Api);
  const { publisher, deadLetterQueues } = use(Events);
  const httpApi = api.cdk.httpApi;

  // Alarm notifications go to one topic; subscribe e-mail/chat to it outside the stack.
  const alarmTopic = new sns.Topic(stack, "AlarmTopic", { displayName: `Orderline ${app.stage} alarms` });
  const notify = new actions.SnsAction(alarmTopic);
  const alarm = (id: string, props: cloudwatch.CreateAlarmOptions & { metric: cloudwatch.IMetric }) => {
    const created = new cloudwatch.Alarm(stack, id, {
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    created.addAlarmAction(notify);
    return created;
  };

  const api4xx = httpApi.metricClientError({ period: ONE_MINUTE, statistic: "Sum" });
  const api5xx = httpApi.metricServerError({ period: ONE_MINUTE, statistic: "Sum" });
  const apiCount = httpApi.metricCount({ period: ONE_MINUTE, statistic: "SampleCount" });
  const api5xxRate = new cloudwatch.MathExpression({
    expression: "IF(requests > 0, 100 * errors / requests, 0)",
    usingMetrics: { errors: api5xx, requests: apiCount },
    label: "API 5xx rate (%)",
    period: ONE_MINUTE,
  });
  const publisherIteratorAge = publisher.metric("IteratorAge", { statistic: "Maximum", period: ONE_MINUTE });
  const publisherErrors = publisher.metricErrors({ period: FIVE_MINUTES, statistic: "Sum" });
  const dlqDepths = Object.entries(deadLetterQueues).map(([name, queue]) => ({
    name,
    depth: queue.metricApproximateNumberOfMessagesVisible({
      period: ONE_MINUTE,
      statistic: "Maximum",
      label: `${name} DLQ`,
    }),
  }));
  const relayDispatchFailed = serviceCount("relay_dispatch_failed_total");
  const relayAttemptsExceeded = serviceCount("relay_attempts_exceeded_total");
  const paidAfterCancel = serviceCount("order_paid_after_cancel_total");
  const expiryFailed = serviceCount("order_expiry_failed_total");

  // 5xx: more than 5% of requests for 3 of 5 minutes (a single failed request at low volume is not an incident).
  alarm("Api5xxRateAlarm", {
    metric: api5xxRate,
    threshold: 5,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    alarmDescription: "API 5xx rate above 5%",
  });
  // The outbox lags: events older than a minute have not reached the bus for 3 minutes in a row.
  alarm("PublisherIteratorAgeAlarm", {
    metric: publisherIteratorAge,
    threshold: 60_000,
    evaluationPeriods: 3,
    alarmDescription: "stream publisher is more than 60 s behind the table stream",
  });
  alarm("PublisherErrorsAlarm", {
    metric: publisherErrors,
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    alarmDescription: "stream publisher invocations failed (batches are being retried/bisected)",
  });
  // Anything in a DLQ is an event or record nobody processed: always worth a look.
  for (const { name, depth } of dlqDepths) {
    alarm(`${name}DlqDepthAlarm`, {
      metric: depth,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      alarmDescription: `messages waiting in the ${name} dead-letter queue`,
    });
  }
  alarm("RelayDispatchFailedAlarm", {
    metric: relayDispatchFailed,
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    alarmDescription: "a relay could not be sent to its supplier (relay_dispatch_failed_total)",
  });
  alarm("RelayAttemptsExceededAlarm", {
    metric: relayAttemptsExceeded,
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    alarmDescription: "a relay kept failing past the attempt threshold (relay_attempts_exceeded_total)",
  });

  // Money taken for an order that is already cancelled (e.g. paid after its payment window): refund it by hand.
  alarm("PaidAfterCancelAlarm", {
    metric: paidAfterCancel,
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    alarmDescription: "a payment succeeded for a cancelled order: refund needed (order_paid_after_cancel_total)",
  });
  alarm("PaymentExpiryFailedAlarm", {
    metric: expiryFailed,
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    alarmDescription: "an unpaid order could not be cancelled at its payment deadline (order_expiry_failed_total)",
  });

  const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
    new cloudwatch.GraphWidget({ title, left, right, width: 12 });
  const dashboard = new cloudwatch.Dashboard(stack, "Dashboard", {
    dashboardName: app.logicalPrefixedName("dashboard"),
  });
  dashboard.addWidgets(
    graph("Orders created, by status", [countBy("order_create_total", "status")]),
    graph("Orders cancelled, by status", [countBy("order_cancel_total", "status")]),
  );
  dashboard.addWidgets(
    graph(
      "Checkout rejections and replays",
      ORDER_COUNTS.map((name) => serviceCount(name)),
    ),
    graph("API requests and errors", [apiCount, api4xx, api5xx], [api5xxRate]),
  );
  dashboard.addWidgets(
    graph("API latency", [
      httpApi.metricLatency({ statistic: "p50", period: ONE_MINUTE }),
      httpApi.metricLatency({ statistic: "p99", period: ONE_MINUTE }),
    ]),
    graph("Stream publisher", [publisherIteratorAge], [publisherErrors]),
  );
  dashboard.addWidgets(
    graph(
      "Dead-letter queue depths",
      dlqDepths.map(({ depth }) => depth),
    ),
    graph("Relay dispatch", [relayDispatchFailed, relayAttemptsExceeded], [countBy("relay_dispatch_total", "outcome")]),
  );

  stack.addOutputs({ AlarmTopicArn: alarmTopic.topicArn });
  return { dashboard, alarmTopic };
}
