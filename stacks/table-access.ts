import * as iam from "aws-cdk-lib/aws-iam";
import type { StackContext } from "sst/constructs";
import { tableName } from "./naming.js";

export type TableAccess = "read" | "readWrite";

const READ_ACTIONS = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"];

/**
 * Exactly the write actions the code performs. TransactWriteItems has no IAM action of its own: each item in a
 * transaction is authorised by the action it performs (Put/Update/ConditionCheck), so these cover checkout and
 * the relay create transaction. No code deletes items (expiry is the table's TTL) or batch-writes, so neither
 * DeleteItem nor BatchWriteItem is granted; add one here only together with the code that needs it.
 */
const WRITE_ACTIONS = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"];

export const tableActions: Record<TableAccess, readonly string[]> = {
  read: READ_ACTIONS,
  readWrite: [...READ_ACTIONS, ...WRITE_ACTIONS],
};

/**
 * The one way a function gets table access: the listed actions on this stage's table and its indexes, nothing
 * else. SST's `bind` on a Table would grant `dynamodb:*`, which is why nothing binds the table.
 * `extraActions` is for the rare job that needs more (the reconciliation scan) and says so at the call site.
 */
export function tableAccessStatement(
  { app, stack }: StackContext,
  access: TableAccess,
  extraActions: readonly string[] = [],
): iam.PolicyStatement {
  const tableArn = stack.formatArn({ service: "dynamodb", resource: "table", resourceName: tableName(app) });
  return new iam.PolicyStatement({
    effect: iam.Effect.ALLOW,
    actions: [...tableActions[access], ...extraActions],
    resources: [tableArn, `${tableArn}/index/*`],
  });
}
