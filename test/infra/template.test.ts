import { rm } from "node:fs/promises";
import path from "node:path";
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Entity, type IndexProjection, tableDefinition } from "../../core/store/table.js";
import { adminFunctions } from "../../functions/admin/functions.js";
import { eventRules, RULE_TARGET_TIMEOUT_SECONDS } from "../../functions/events/rules.js";
import { fallbackHandler, routeGroups, routeKey, routes } from "../../functions/routes.js";
import { scheduledJobs } from "../../functions/scheduled/jobs.js";
import { streamPublisher } from "../../functions/stream/publisher-source.js";
import { buildOffline, type OfflineBuild, projectRoot } from "../../scripts/sst-build-offline.js";
import { isProtectedStage, stagePolicy } from "../../stacks/naming.js";
import { supplierSecretHandlers } from "../../stacks/secrets.js";
import { createOrderlineTable } from "../../stacks/table.js";
import { tableActions } from "../../stacks/table-access.js";
import { deployedHandlers } from "../support/handlers.js";
import {
  allStatements,
  asArray,
  bundleSize,
  functionsOf,
  loadTemplates,
  onlyResource,
  type PolicyStatement,
  render,
  resourcesOf,
  STACKS,
  type Synthesized,
  type SynthesizedFunction,
} from "./templates.js";

/**
 * Synthesizes the real app offline (`sst build` against a loopback fake of STS/CloudFormation) and checks the
 * CloudFormation against the project's single sources of truth: the table definition, the route table and the
 * event rules. Nothing is deployed; nothing leaves the machine.
 */
const STAGE = "test";
/** A protected stage, built too: what differs there (retention, throttle, retained DLQs) is checked on its template. */
const PROTECTED_STAGE = "prod";
/** This run's own output directories: a concurrent `npm run synth` or test run cannot change them under us. */
const OUT_DIR = path.join(projectRoot, ".sst", `dist-infra-test-${process.pid}`);
const PROTECTED_OUT_DIR = path.join(projectRoot, ".sst", `dist-infra-prod-${process.pid}`);
const ACCOUNT_REGION = "us-east-1:123456789012";

let build: OfflineBuild;
let synth: Synthesized;
let protectedSynth: Synthesized;
let functions: SynthesizedFunction[];
let tableName: string;

/** SST adds one internal custom-resource Lambda to every stack (stack metadata, sourcemap upload). */
const isSstInternal = (fn: SynthesizedFunction) =>
  fn.logicalId.startsWith("CustomResourceHandler") && fn.handler === "index.handler";
const projectFunctions = () => functions.filter((fn) => !isSstInternal(fn));
const functionByHandler = (handler: string) => {
  const found = projectFunctions().filter((fn) => fn.handler === handler);
  expect(found, `functions with handler ${handler}`).toHaveLength(1);
  return found[0]!;
};
const functionByLogicalId = (stack: string, logicalId: string) => {
  const found = functions.find((fn) => fn.stack === stack && fn.logicalId === logicalId);
  expect(found, `${stack}/${logicalId}`).toBeDefined();
  return found!;
};
/** `{"Fn::GetAtt": [fn, "Arn"]}` -> the function's logical id. */
const getAttTarget = (value: unknown) => (value as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
const actionsOf = (statement: PolicyStatement) => asArray(statement.Action);
const dynamoStatements = (fn: SynthesizedFunction) =>
  fn.statements.filter((s) => actionsOf(s).some((a) => a.startsWith("dynamodb:")));

beforeAll(async () => {
  build = await buildOffline({ stage: STAGE, outDir: OUT_DIR });
  console.log(`offline sst build: ${(build.durationMs / 1000).toFixed(1)} s; AWS calls: ${build.awsCalls.join(", ")}`);
  synth = loadTemplates(OUT_DIR, STAGE);
  functions = functionsOf(synth);
  tableName = onlyResource(synth.json.Data, "AWS::DynamoDB::Table")[1].Properties!.TableName;
  const protectedBuild = await buildOffline({ stage: PROTECTED_STAGE, outDir: PROTECTED_OUT_DIR });
  console.log(`offline sst build (${PROTECTED_STAGE}): ${(protectedBuild.durationMs / 1000).toFixed(1)} s`);
  protectedSynth = loadTemplates(PROTECTED_OUT_DIR, PROTECTED_STAGE);
}, 480_000);

afterAll(async () => {
  await rm(OUT_DIR, { recursive: true, force: true });
  await rm(PROTECTED_OUT_DIR, { recursive: true, force: true });
});

describe("offline synthesis", () => {
  it("asks AWS only who the caller is and whether the account is bootstrapped", () => {
    expect(build.awsCalls).toEqual(
      expect.arrayContaining(["GetCallerIdentity", "DescribeStacks:CDKToolkit", "DescribeStacks:SSTBootstrap"]),
    );
    expect(new Set(build.awsCalls)).toEqual(
      new Set(["GetCallerIdentity", "DescribeStacks:CDKToolkit", "DescribeStacks:SSTBootstrap"]),
    );
  });
});

/** The CloudFormation `Projection` of an index as tableDefinition declares it. */
function projectionOf(projection: IndexProjection) {
  if (typeof projection === "string") return { ProjectionType: projection };
  return { ProjectionType: "INCLUDE", NonKeyAttributes: [...projection.include] };
}

describe("Data: the table", () => {
  it("is built from tableDefinition: keys, GSIs with their projections, stream, TTL, PITR, on-demand", () => {
    const { partitionKey, sortKey, globalIndexes, stream, timeToLiveAttribute } = tableDefinition;
    const key = (hash: string, range: string) => [
      { AttributeName: hash, KeyType: "HASH" },
      { AttributeName: range, KeyType: "RANGE" },
    ];
    synth.template.Data.resourceCountIs("AWS::DynamoDB::Table", 1);
    synth.template.Data.hasResourceProperties("AWS::DynamoDB::Table", {
      KeySchema: key(partitionKey, sortKey),
      BillingMode: "PAY_PER_REQUEST",
      StreamSpecification: { StreamViewType: stream },
      TimeToLiveSpecification: { AttributeName: timeToLiveAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      GlobalSecondaryIndexes: Object.entries(globalIndexes).map(([IndexName, index]) => ({
        IndexName,
        KeySchema: key(index.partitionKey, index.sortKey),
        Projection: projectionOf(index.projection),
      })),
    });
  });

  it("is disposable on this stage: deleted with its stack, no deletion protection", () => {
    expect(isProtectedStage(STAGE)).toBe(false);
    synth.template.Data.hasResource("AWS::DynamoDB::Table", {
      DeletionPolicy: "Delete",
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
  });

  it("is retained and deletion-protected on prod and staging only", () => {
    for (const stage of ["dev", "test", "alice", "pr-42"]) expect(isProtectedStage(stage), stage).toBe(false);
    for (const stage of ["prod", "staging"]) {
      // The same construct Data uses, synthesized in plain CDK for that stage (no second `sst build`).
      const stack = new Stack(new App(), `Data-${stage}`);
      createOrderlineTable(stack, "Table", { stage, tableName: `${stage}-orderline-Table` });
      Template.fromStack(stack).hasResource("AWS::DynamoDB::Table", {
        DeletionPolicy: "Retain",
        UpdateReplacePolicy: "Retain",
        Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
      });
    }
  });
});

describe("Api: routes from the route table", () => {
  it("has exactly one route per entry of routes, each with AWS IAM auth (public ones too: the BFF signs its calls) but the signed supplier webhooks", () => {
    // ... plus the `$default` catch-all.
    synth.template.Api.resourceCountIs("AWS::ApiGatewayV2::Route", routes.length + 1);
    for (const route of routes) {
      synth.template.Api.hasResourceProperties("AWS::ApiGatewayV2::Route", {
        RouteKey: routeKey(route),
        AuthorizationType: route.auth === "signature" ? "NONE" : "AWS_IAM",
      });
    }
  });

  it("leaves only the supplier webhook route without IAM (its handler verifies the signature), throttled below the stage", () => {
    const synthesized = resourcesOf(synth.json.Api, "AWS::ApiGatewayV2::Route").map(([, route]) => ({
      routeKey: route.Properties!.RouteKey as string,
      auth: route.Properties!.AuthorizationType as string | undefined,
    }));
    expect(synthesized).toHaveLength(routes.length + 1);
    expect(synthesized.filter(({ auth }) => auth !== "AWS_IAM")).toEqual([
      { routeKey: "POST /webhooks/suppliers/{supplierId}", auth: "NONE" },
    ]);
    expect(synthesized.filter(({ routeKey }) => routeKey.split(" ")[1]?.startsWith("/api/v1/")).length).toBeGreaterThan(
      0,
    );
    const [, stage] = onlyResource(synth.json.Api, "AWS::ApiGatewayV2::Stage");
    const settings = (
      stage.Properties!.RouteSettings as Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }>
    )["POST /webhooks/suppliers/{supplierId}"];
    const defaults = stage.Properties!.DefaultRouteSettings as { ThrottlingRateLimit: number };
    expect(settings!.ThrottlingRateLimit).toBeGreaterThan(0);
    expect(settings!.ThrottlingRateLimit).toBeLessThan(defaults.ThrottlingRateLimit);
    expect(settings!.ThrottlingBurstLimit).toBeGreaterThan(0);
  });

  it("declares /internal and /admin routes as auth 'iam' in the route table (the BFF-facing API is /api/v1 only)", () => {
    for (const route of routes) {
      if (route.path.startsWith("/internal/") || route.path.startsWith("/admin/"))
        expect(route.auth, routeKey(route)).toBe("iam");
    }
  });

  const functionOfRoute = () => {
    const integrations = Object.fromEntries(resourcesOf(synth.json.Api, "AWS::ApiGatewayV2::Integration"));
    const handlers = new Map<string, string>();
    for (const [, route] of resourcesOf(synth.json.Api, "AWS::ApiGatewayV2::Route")) {
      const integrationId = render(route.Properties!.Target).replace(/^integrations\/\$\{(.+)\}$/, "$1");
      const target = getAttTarget(integrations[integrationId]!.Properties!.IntegrationUri);
      handlers.set(route.Properties!.RouteKey, functionByLogicalId("Api", target).handler);
    }
    return handlers;
  };

  it("sends every route of a group to that group's one function", () => {
    const handlers = functionOfRoute();
    for (const route of routes)
      expect(handlers.get(routeKey(route)), routeKey(route)).toBe(routeGroups[route.group].handler);
    const apiFunctions = projectFunctions().filter((fn) => fn.stack === "Api");
    expect(apiFunctions.map((fn) => fn.handler).sort()).toEqual(
      [...Object.values(routeGroups).map((g) => g.handler), fallbackHandler].sort(),
    );
  });

  it("answers every other path and method from the $default catch-all, signed like the rest, with no table access", () => {
    synth.template.Api.hasResourceProperties("AWS::ApiGatewayV2::Route", {
      RouteKey: "$default",
      AuthorizationType: "AWS_IAM",
    });
    expect(functionOfRoute().get("$default")).toBe(fallbackHandler);
    const fallback = functionByHandler(fallbackHandler);
    expect(dynamoStatements(fallback)).toEqual([]);
    expect(fallback.environment).not.toHaveProperty("SST_Secret_value_SUPPLIER_SIGNING_SECRET");
  });
});

describe("functions", () => {
  it("exist exactly once per handler of the route table and the event rules", () => {
    expect(
      projectFunctions()
        .map((fn) => fn.handler)
        .sort(),
    ).toEqual(deployedHandlers().sort());
  });

  it("all run nodejs24.x on arm64 with active tracing and the common environment", () => {
    for (const fn of projectFunctions()) {
      expect({ handler: fn.handler, runtime: fn.runtime, arch: fn.architectures, tracing: fn.tracing }).toEqual({
        handler: fn.handler,
        runtime: "nodejs24.x",
        arch: ["arm64"],
        tracing: "Active",
      });
      expect(fn.environment).toMatchObject({
        ORDERLINE_TABLE: tableName,
        POWERTOOLS_SERVICE_NAME: "orderline",
        POWERTOOLS_METRICS_NAMESPACE: "Orderline",
      });
    }
  });

  it("time out as their source of truth says (the local runtime gives each invocation the same time)", () => {
    const declared: [handler: string, seconds: number][] = [
      ...Object.values(routeGroups).map((g): [string, number] => [g.handler, g.timeoutSeconds]),
      ...eventRules.map((r): [string, number] => [r.handler, RULE_TARGET_TIMEOUT_SECONDS]),
      [streamPublisher.handler, streamPublisher.timeoutSeconds],
      ...scheduledJobs.map((j): [string, number] => [j.handler, j.timeoutSeconds]),
      ...adminFunctions.map((a): [string, number] => [a.handler, a.timeoutSeconds]),
    ];
    for (const [handler, seconds] of declared) {
      const deployed = projectFunctions().find((fn) => fn.handler === handler);
      expect({ handler, timeout: deployed?.timeout }).toEqual({ handler, timeout: seconds });
    }
    // API Gateway answers 503 at 29 s whatever the function does.
    expect(Math.max(...Object.values(routeGroups).map((g) => g.timeoutSeconds))).toBeLessThanOrEqual(29);
  });

  it("the only other Lambdas are SST's per-stack custom-resource handler (runtime chosen by SST, not us)", () => {
    const internal = functions.filter(isSstInternal);
    expect(internal.length).toBeLessThanOrEqual(4);
    expect(new Set(internal.map((fn) => fn.stack)).size).toBe(internal.length);
  });
});

describe("IAM: least privilege", () => {
  const tableArn = () => `arn:\${AWS::Partition}:dynamodb:${ACCOUNT_REGION}:table/${tableName}`;

  it("grants no wildcard action anywhere (no `*`, no `dynamodb:*`, no `service:*`)", () => {
    const wildcards = allStatements(synth)
      .flatMap(({ where, statement }) => actionsOf(statement).map((action) => ({ where, action })))
      .filter(({ action }) => action === "*" || action.endsWith(":*"));
    expect(wildcards).toEqual([]);
  });

  it("scopes every DynamoDB statement to this table and its indexes (stream reads: its stream)", () => {
    const streamExport = render(synth.json.Data.Outputs!).match(
      /test-orderline-Data:ExportsOutputFnGetAtt\w*StreamArn\w*/,
    )?.[0];
    expect(streamExport).toBeDefined();
    const allowed = new Set([tableArn(), `${tableArn()}/index/*`, `\${Import:${streamExport}}`]);
    for (const { where, statement } of allStatements(synth)) {
      const actions = actionsOf(statement);
      if (!actions.some((a) => a.startsWith("dynamodb:"))) continue;
      const resources = asArray(statement.Resource).map(render);
      // ListStreams is an account-level list call (stream ARNs, no data) that Lambda's stream poller makes; CDK
      // grants it on "*". It is the one DynamoDB action allowed beyond this table, and only on its own.
      if (actions.length === 1 && actions[0] === "dynamodb:ListStreams") {
        expect(resources, where).toEqual(["*"]);
        continue;
      }
      for (const resource of resources) expect(allowed.has(resource), `${where}: ${resource}`).toBe(true);
    }
  });

  it("gives each route group and rule target exactly the table actions of its declared access", () => {
    const declared = [
      ...Object.values(routeGroups).map((g) => ({ handler: g.handler, access: g.table })),
      ...eventRules.map((r) => ({ handler: r.handler, access: r.table })),
      ...scheduledJobs.map((j) => ({ handler: j.handler, access: "readWrite" as const })),
    ];
    for (const { handler, access } of declared) {
      const statements = dynamoStatements(functionByHandler(handler));
      expect(statements, handler).toHaveLength(1);
      expect(new Set(actionsOf(statements[0]!)), handler).toEqual(new Set(tableActions[access]));
      expect(asArray(statements[0]!.Resource).map(render), handler).toEqual([tableArn(), `${tableArn()}/index/*`]);
    }
  });

  it("grants no function DeleteItem or BatchWriteItem (no code deletes or batch-writes items)", () => {
    const unused = new Set(["dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]);
    expect(tableActions.readWrite.filter((a) => unused.has(a))).toEqual([]);
    const granted = allStatements(synth)
      .flatMap(({ where, statement }) => actionsOf(statement).map((action) => ({ where, action })))
      .filter(({ action }) => unused.has(action));
    expect(granted).toEqual([]);
  });

  it("grants writers exactly the item actions the code uses", () => {
    expect(new Set(tableActions.read)).toEqual(
      new Set(["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"]),
    );
    expect(new Set(tableActions.readWrite)).toEqual(
      new Set([...tableActions.read, "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"]),
    );
  });

  it("adds Scan only for the reconciliation job", () => {
    const scanners = projectFunctions().filter((fn) =>
      dynamoStatements(fn).some((s) => actionsOf(s).includes("dynamodb:Scan")),
    );
    expect(scanners.map((fn) => fn.handler)).toEqual(["functions/admin/reconcile.handler"]);
  });

  it("lets the stream publisher put events on its bus only, and touch no table items", () => {
    const publisher = functionByHandler(streamPublisher.handler);
    const putEvents = publisher.statements.filter((s) => actionsOf(s).includes("events:PutEvents"));
    expect(putEvents).toHaveLength(1);
    const [busId] = onlyResource(synth.json.Events, "AWS::Events::EventBus");
    expect(putEvents[0]!.Resource).toEqual({ "Fn::GetAtt": [busId, "Arn"] });
    expect(publisher.environment.ORDERLINE_EVENT_BUS).toEqual({ Ref: busId });
    const itemActions = dynamoStatements(publisher)
      .flatMap(actionsOf)
      .filter((a) => tableActions.readWrite.includes(a));
    expect(itemActions).toEqual([]);
    const others = projectFunctions().filter((fn) =>
      fn.statements.some((s) => actionsOf(s).includes("events:PutEvents")),
    );
    expect(others.map((fn) => fn.handler)).toEqual([streamPublisher.handler]);
  });

  it("binds SUPPLIER_SIGNING_SECRET (the master of the supplier secrets) only to the dispatcher, relay-retry and the relays/admin/webhooks route groups", () => {
    const withSecretEnv = projectFunctions().filter(
      (fn) => "SST_Secret_value_SUPPLIER_SIGNING_SECRET" in fn.environment,
    );
    expect(new Set(withSecretEnv.map((fn) => fn.handler))).toEqual(new Set(supplierSecretHandlers));
    expect(supplierSecretHandlers).toEqual(
      new Set([
        "functions/relay/dispatch.handler",
        "functions/admin/relay-retry.handler",
        routeGroups.relays.handler,
        routeGroups.admin.handler,
        routeGroups.webhooks.handler,
      ]),
    );
    const ssmReaders = projectFunctions().filter((fn) =>
      fn.statements.some((s) => actionsOf(s).some((a) => a.startsWith("ssm:"))),
    );
    expect(new Set(ssmReaders.map((fn) => fn.handler))).toEqual(new Set(supplierSecretHandlers));
    for (const fn of ssmReaders) {
      for (const statement of fn.statements.filter((s) => actionsOf(s).some((a) => a.startsWith("ssm:")))) {
        expect(actionsOf(statement)).toEqual(["ssm:GetParameters"]);
        for (const resource of asArray(statement.Resource).map(render))
          expect(resource).toMatch(/:parameter\/sst\/orderline\/[^/]+\/Secret\/SUPPLIER_SIGNING_SECRET\/value$/);
      }
    }
  });
});

describe("Events: bus, rules, stream publisher, schedules", () => {
  it("has one rule per eventRules entry on the bus, with its pattern, a retry policy and a DLQ", () => {
    const [busId] = onlyResource(synth.json.Events, "AWS::Events::EventBus");
    const queues = new Set(resourcesOf(synth.json.Events, "AWS::SQS::Queue").map(([id]) => id));
    const invokeConfigs = resourcesOf(synth.json.Events, "AWS::Lambda::EventInvokeConfig").map(
      ([, r]) => r.Properties!,
    );
    for (const rule of eventRules) {
      const matches = resourcesOf(synth.json.Events, "AWS::Events::Rule").filter(
        ([, r]) => JSON.stringify(r.Properties!.EventPattern) === JSON.stringify(rule.pattern),
      );
      expect(matches, rule.name).toHaveLength(1);
      const props = matches[0]![1].Properties!;
      expect(props.EventBusName).toEqual({ Ref: busId });
      const [target] = props.Targets as Record<string, any>[];
      expect(functionByLogicalId("Events", getAttTarget(target!.Arn)).handler).toBe(rule.handler);
      expect(target!.RetryPolicy).toEqual({
        MaximumRetryAttempts: expect.any(Number),
        MaximumEventAgeInSeconds: expect.any(Number),
      });
      const dlq = getAttTarget(target!.DeadLetterConfig.Arn);
      expect(queues.has(dlq), `${rule.name} DLQ`).toBe(true);
      // A handler that throws is retried by Lambda and then lands in the same DLQ.
      const fnId = getAttTarget(target!.Arn);
      expect(invokeConfigs.find((c) => c.FunctionName.Ref === fnId)?.DestinationConfig?.OnFailure?.Destination).toEqual(
        {
          "Fn::GetAtt": [dlq, "Arn"],
        },
      );
    }
  });

  it("feeds the stream publisher from the table stream with bisect, bounded retries, a DLQ and an entity filter", () => {
    synth.template.Events.resourceCountIs("AWS::Lambda::EventSourceMapping", 1);
    const props = onlyResource(synth.json.Events, "AWS::Lambda::EventSourceMapping")[1].Properties!;
    expect(functionByLogicalId("Events", props.FunctionName.Ref).handler).toBe(streamPublisher.handler);
    expect(render(props.EventSourceArn)).toMatch(
      /^\$\{Import:test-orderline-Data:ExportsOutputFnGetAttTable\w+StreamArn\w+\}$/,
    );
    expect(props).toMatchObject({
      StartingPosition: "TRIM_HORIZON",
      BatchSize: 100,
      // Concurrent batches per shard; Lambda keeps each partition key (each order) in order.
      ParallelizationFactor: 10,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 86_400,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
    const onFailure = getAttTarget(props.DestinationConfig.OnFailure.Destination);
    expect(synth.json.Events.Resources[onFailure]!.Type).toBe("AWS::SQS::Queue");
    const patterns = (props.FilterCriteria.Filters as { Pattern: string }[]).map((f) => JSON.parse(f.Pattern));
    expect(patterns).toEqual([
      { eventName: ["INSERT"], dynamodb: { NewImage: { entity: { S: [Entity.OrderEvent, Entity.RelayAudit] } } } },
    ]);
  });

  it("runs each scheduled job on its schedule", () => {
    for (const job of scheduledJobs) {
      const matches = resourcesOf(synth.json.Events, "AWS::Events::Rule").filter(
        ([, r]) => r.Properties!.ScheduleExpression === job.schedule,
      );
      const handlers = matches.flatMap(([, r]) =>
        (r.Properties!.Targets as { Arn: unknown }[]).map(
          (t) => functionByLogicalId("Events", getAttTarget(t.Arn)).handler,
        ),
      );
      expect(handlers, job.name).toContain(job.handler);
    }
  });
});

describe("Ops: alarms and dashboard", () => {
  const alarms = () =>
    resourcesOf(synth.json.Ops, "AWS::CloudWatch::Alarm").map(([id, r]) => ({ id, props: r.Properties! }));
  const metricNamesOf = (props: Record<string, any>): string[] => [
    ...(props.MetricName ? [props.MetricName] : []),
    ...asArray(props.Metrics as Record<string, any>[]).flatMap((m) =>
      m.MetricStat ? [m.MetricStat.Metric.MetricName] : [],
    ),
  ];

  it("alarms on API 5xx rate, publisher iterator age and errors, and both relay metrics", () => {
    const all = alarms();
    const withMetric = (name: string, namespace?: string) =>
      all.filter(
        ({ props }) => metricNamesOf(props).includes(name) && (!namespace || render(props).includes(namespace)),
      );
    expect(withMetric("5xx").length).toBe(1);
    expect(
      all
        .find(({ props }) => metricNamesOf(props).includes("5xx"))!
        .props.Metrics.some((m: any) => /errors \/ requests/.test(m.Expression ?? "")),
    ).toBe(true);
    expect(withMetric("IteratorAge")).toHaveLength(1);
    expect(withMetric("Errors")).toHaveLength(1);
    for (const metric of [
      "relay_dispatch_failed_total",
      "relay_attempts_exceeded_total",
      "order_paid_after_cancel_total",
      "order_expiry_failed_total",
    ]) {
      const [alarm, ...rest] = withMetric(metric);
      expect(rest, metric).toHaveLength(0);
      expect(alarm!.props).toMatchObject({
        Namespace: "Orderline",
        Dimensions: [{ Name: "service", Value: "orderline" }],
      });
    }
  });

  it("alarms when any DLQ holds a message (stream on-failure queue and every rule's DLQ)", () => {
    const queueIds = resourcesOf(synth.json.Events, "AWS::SQS::Queue").map(([id]) => id);
    expect(queueIds.length).toBe(eventRules.length + 1);
    const depthAlarms = alarms().filter(({ props }) =>
      metricNamesOf(props).includes("ApproximateNumberOfMessagesVisible"),
    );
    for (const queueId of queueIds) {
      // The queue lives in Events, the alarm in Ops: its QueueName dimension imports that queue's name.
      const covering = depthAlarms.filter(({ props }) =>
        render(props).includes(`ExportsOutputFnGetAtt${queueId}QueueName`),
      );
      expect(covering, queueId).toHaveLength(1);
      expect(covering[0]!.props).toMatchObject({ Threshold: 0, ComparisonOperator: "GreaterThanThreshold" });
    }
  });

  it("has a dashboard with the seed metrics (by status where they carry one), API, publisher and DLQ widgets", () => {
    // The body is JSON with `${...}` placeholders where tokens were (always inside strings), so it parses.
    const body = JSON.parse(
      render(onlyResource(synth.json.Ops, "AWS::CloudWatch::Dashboard")[1].Properties!.DashboardBody),
    ) as {
      widgets: { properties: { metrics?: unknown[][] } }[];
    };
    const lines = body.widgets.flatMap((w) => w.properties.metrics ?? []);
    // A plain metric line is [namespace, name, dimension, value, ..., options]; an expression line is [{ expression }].
    const metricNames = new Set(
      lines.filter((line) => typeof line[0] === "string").map((line) => `${line[0]}/${line[1]}`),
    );
    const expressions = lines
      .flatMap((line) => line.map((part) => (part as { expression?: string }).expression ?? ""))
      .filter(Boolean);
    for (const name of [
      "order_price_changed_total",
      "order_out_of_stock_total",
      "order_idempotent_hit_total",
      "relay_dispatch_failed_total",
      "relay_attempts_exceeded_total",
    ]) {
      expect(metricNames, name).toContain(`Orderline/${name}`);
    }
    for (const name of ["order_create_total", "order_cancel_total"]) {
      expect(expressions, name).toContain(`SEARCH('{Orderline,service,status} MetricName="${name}"', 'Sum', 300)`);
    }
    for (const name of [
      "AWS/ApiGateway/4xx",
      "AWS/ApiGateway/5xx",
      "AWS/ApiGateway/Latency",
      "AWS/Lambda/IteratorAge",
      "AWS/Lambda/Errors",
    ]) {
      expect(metricNames, name).toContain(name);
    }
    const dlqLines = lines.filter((line) => line[0] === "AWS/SQS" && line[1] === "ApproximateNumberOfMessagesVisible");
    expect(dlqLines).toHaveLength(eventRules.length + 1);
  });
});

describe("operations: retention, throttling, concurrency, queues", () => {
  const both = () =>
    [
      { stage: STAGE, synth },
      { stage: PROTECTED_STAGE, synth: protectedSynth },
    ] as const;

  it("gives every Lambda (SST's internal handler too) a log group of its own stack, and no log group is unowned", () => {
    for (const { stage, synth: built } of both()) {
      for (const stack of STACKS) {
        const template = built.json[stack];
        const logGroups = new Set(resourcesOf(template, "AWS::Logs::LogGroup").map(([id]) => id));
        const owned = new Set<string>();
        for (const [id, fn] of resourcesOf(template, "AWS::Lambda::Function")) {
          const logGroup = fn.Properties!.LoggingConfig?.LogGroup as { Ref: string } | undefined;
          expect(logGroup, `${stage} ${stack}/${id}`).toBeDefined();
          expect(logGroups.has(logGroup!.Ref), `${stage} ${stack}/${id} -> ${logGroup!.Ref}`).toBe(true);
          owned.add(logGroup!.Ref);
        }
        // The API access log is the one log group that no function writes to.
        for (const [, stageResource] of resourcesOf(template, "AWS::ApiGatewayV2::Stage")) {
          owned.add(getAttTarget(stageResource.Properties!.AccessLogSettings.DestinationArn));
        }
        expect(
          [...logGroups].filter((id) => !owned.has(id)),
          `${stage} ${stack}`,
        ).toEqual([]);
      }
    }
  });

  it("keeps logs 7 days in a disposable stage and deletes them with it; 30 days and retained in a protected one", () => {
    expect(isProtectedStage(PROTECTED_STAGE)).toBe(true);
    const expected = { [STAGE]: { days: 7, policy: "Delete" }, [PROTECTED_STAGE]: { days: 30, policy: "Retain" } };
    for (const { stage, synth: built } of both()) {
      const logGroups = STACKS.flatMap((stack) =>
        resourcesOf(built.json[stack], "AWS::Logs::LogGroup").map(([id, r]) => ({ id: `${stack}/${id}`, r })),
      );
      // One per function of every stack (4 SST handlers included) plus the API access log.
      expect(logGroups.length, stage).toBe(functionsOf(built).length + 1);
      for (const { id, r } of logGroups) {
        expect({
          id,
          days: r.Properties!.RetentionInDays,
          deletion: r.DeletionPolicy,
          replace: r.UpdateReplacePolicy,
        }).toEqual({
          id,
          days: expected[stage].days,
          deletion: expected[stage].policy,
          replace: expected[stage].policy,
        });
      }
    }
  });

  it("writes the API access log to its own log group", () => {
    const [, apiStage] = onlyResource(synth.json.Api, "AWS::ApiGatewayV2::Stage");
    const target = getAttTarget(apiStage.Properties!.AccessLogSettings.DestinationArn);
    expect(synth.json.Api.Resources[target]!.Type).toBe("AWS::Logs::LogGroup");
  });

  it("throttles every route of the API's default stage per stage (rate and burst)", () => {
    for (const { stage, synth: built } of both()) {
      const [, apiStage] = onlyResource(built.json.Api, "AWS::ApiGatewayV2::Stage");
      expect(apiStage.Properties!.StageName).toBe("$default");
      const { rate, burst } = stagePolicy(stage).apiThrottle;
      expect(rate).toBeGreaterThan(0);
      expect(burst).toBeGreaterThan(0);
      expect(apiStage.Properties!.DefaultRouteSettings, stage).toEqual({
        ThrottlingRateLimit: rate,
        ThrottlingBurstLimit: burst,
      });
    }
    expect(stagePolicy(PROTECTED_STAGE).apiThrottle.rate).toBeGreaterThan(stagePolicy(STAGE).apiThrottle.rate);
  });

  it("reserves concurrency for the relay dispatcher (10), the payment expiry (1) and the reconciliation (1), and nothing else", () => {
    const reserved = Object.fromEntries(
      STACKS.flatMap((stack) =>
        resourcesOf(synth.json[stack], "AWS::Lambda::Function")
          .filter(([, fn]) => fn.Properties!.ReservedConcurrentExecutions !== undefined)
          .map(([, fn]) => [fn.Properties!.Handler as string, fn.Properties!.ReservedConcurrentExecutions as number]),
      ),
    );
    expect(reserved).toEqual({
      "functions/relay/dispatch.handler": 10,
      "functions/scheduled/expire-payments.handler": 1,
      "functions/admin/reconcile.handler": 1,
    });
  });

  it("drops a throttled or failed expiry tick after a minute instead of queueing it behind later ticks", () => {
    const expiry = functionByHandler("functions/scheduled/expire-payments.handler");
    const config = resourcesOf(synth.json.Events, "AWS::Lambda::EventInvokeConfig")
      .map(([, r]) => r.Properties!)
      .find((props) => props.FunctionName.Ref === expiry.logicalId);
    expect(config).toMatchObject({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });
  });

  it("states SQS-managed encryption on every queue and enforces TLS on it", () => {
    for (const { stage, synth: built } of both()) {
      const queues = STACKS.flatMap((stack) => resourcesOf(built.json[stack], "AWS::SQS::Queue"));
      expect(queues.length, stage).toBe(eventRules.length + 1);
      const policies = resourcesOf(built.json.Events, "AWS::SQS::QueuePolicy").map(([, r]) => r.Properties!);
      for (const [id, queue] of queues) {
        expect(queue.Properties!.SqsManagedSseEnabled, `${stage} ${id}`).toBe(true);
        expect(queue.Properties!.KmsMasterKeyId, `${stage} ${id}`).toBeUndefined();
        const policy = policies.find((p) => asArray(p.Queues as { Ref: string }[]).some((q) => q.Ref === id));
        expect(render(policy?.PolicyDocument), `${stage} ${id}`).toContain("aws:SecureTransport");
      }
    }
  });

  it("deletes the DLQs with a disposable stage and keeps them (messages and all) when a protected stack is deleted", () => {
    for (const { stage, synth: built } of both()) {
      const expected = isProtectedStage(stage) ? "Retain" : "Delete";
      for (const [id, queue] of resourcesOf(built.json.Events, "AWS::SQS::Queue")) {
        expect({ id, deletion: queue.DeletionPolicy, replace: queue.UpdateReplacePolicy }).toEqual({
          id,
          deletion: expected,
          replace: expected,
        });
      }
    }
  });
});

describe("bundles", () => {
  it("keeps every function bundle within the 500 KB cold-start budget (and prints the sizes)", () => {
    const sizes = projectFunctions().map((fn) => {
      expect(fn.assetHash, fn.handler).toBeDefined();
      return { handler: fn.handler, ...bundleSize(path.join(OUT_DIR, `asset.${fn.assetHash}`)) };
    });
    console.log("function bundles (asset.* of the build, uncompressed and gzipped):");
    console.table(
      [...sizes]
        .sort((a, b) => b.bytes - a.bytes)
        .map(({ handler, files, bytes, gzipBytes }) => ({
          handler,
          files,
          kB: Math.round(bytes / 1000),
          gzip_kB: Math.round(gzipBytes / 1000),
        })),
    );
    // Uncompressed, as Lambda loads it; 500 KB = 500,000 bytes.
    expect(sizes.filter(({ bytes }) => bytes > 500_000).map(({ handler, bytes }) => ({ handler, bytes }))).toEqual([]);
  });
});
