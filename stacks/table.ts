import { RemovalPolicy } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type { Construct } from "constructs";
import { type IndexProjection, tableDefinition } from "../core/store/table.js";
import { isProtectedStage } from "./naming.js";

/** Every key attribute of the single table holds a string (see the key builders in core/store/table.ts). */
const stringAttribute = (name: string): dynamodb.Attribute => ({ name, type: dynamodb.AttributeType.STRING });

function projectionOf(
  projection: IndexProjection,
): Pick<dynamodb.GlobalSecondaryIndexProps, "projectionType" | "nonKeyAttributes"> {
  if (projection === "KEYS_ONLY") return { projectionType: dynamodb.ProjectionType.KEYS_ONLY };
  if (projection === "ALL") return { projectionType: dynamodb.ProjectionType.ALL };
  return { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...projection.include] };
}

/**
 * The one table, built from `tableDefinition` (the same definition the local runtime creates its table from).
 * Plain CDK, no SST, so a test can synthesize it for any stage in milliseconds.
 */
export function createOrderlineTable(
  scope: Construct,
  id: string,
  { stage, tableName }: { stage: string; tableName: string },
) {
  // prod/staging keep their data: RETAIN on removal plus deletion protection. Other stages are disposable.
  const protectedStage = isProtectedStage(stage);
  const table = new dynamodb.Table(scope, id, {
    tableName,
    partitionKey: stringAttribute(tableDefinition.partitionKey),
    sortKey: stringAttribute(tableDefinition.sortKey),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    // The stream is the outbox: the publisher turns committed OrderEvent/RelayAudit items into EventBridge events.
    stream: dynamodb.StreamViewType[tableDefinition.stream],
    timeToLiveAttribute: tableDefinition.timeToLiveAttribute,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: protectedStage,
    removalPolicy: protectedStage ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  for (const [indexName, index] of Object.entries(tableDefinition.globalIndexes)) {
    table.addGlobalSecondaryIndex({
      indexName,
      partitionKey: stringAttribute(index.partitionKey),
      sortKey: stringAttribute(index.sortKey),
      ...projectionOf(index.projection),
    });
  }
  return table;
}
