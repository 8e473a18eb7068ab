import { RemovalPolicy, type Stack } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import { type FunctionProps, Function as SstFunction, type StackContext } from "sst/constructs";
import { stagePolicy } from "./naming.js";
import { needsSupplierSecret, type SupplierSecret } from "./secrets.js";
import { type TableAccess, tableAccessStatement } from "./table-access.js";

export interface OrderlineFunctionProps extends Omit<FunctionProps, "handler" | "permissions" | "bind"> {
  /** Handler in SST notation, from the route table or the definitions under functions/ (rules, jobs, admin, stream). */
  handler: string;
  /** What the function may do to the table; `none` for functions that never touch it. */
  table: TableAccess | "none";
  /** Table actions beyond `table`, each with a reason at the call site. */
  extraTableActions?: readonly string[];
}

/**
 * Creates a Lambda for one of the project's handlers with least-privilege table access, and binds the
 * supplier signing secret exactly when the handler is one of `supplierSecretHandlers`. Runtime, architecture,
 * tracing, bundling and the common environment come from the app's default function props (sst.config.ts).
 */
export function orderlineFunction(
  ctx: StackContext,
  id: string,
  secret: SupplierSecret,
  { table, extraTableActions, ...props }: OrderlineFunctionProps,
): SstFunction {
  const fn = new SstFunction(ctx.stack, id, props);
  if (table !== "none") fn.attachPermissions([tableAccessStatement(ctx, table, extraTableActions)]);
  if (needsSupplierSecret(props.handler)) fn.bind([secret]);
  return fn;
}

/**
 * Every log group of the stack is created by the stack, with the stage's retention and removal policy, so none
 * keeps logs forever and a disposable stage leaves none behind. A Lambda writes to `/aws/lambda/<name>`, which
 * Lambda itself creates on first use (no retention, outside the stack, left behind by `sst remove`) unless the
 * function names a log group: so each function without one, ours and SST's internal custom-resource handler
 * alike, gets its own. Call once per stack after all its functions exist (sst.config.ts).
 */
export function manageLogGroups(stack: Stack, stage: string): void {
  const policy = stagePolicy(stage);
  const retention = logs.RetentionDays[policy.logRetention.toUpperCase() as keyof typeof logs.RetentionDays];
  const removal = policy.retainOnDelete ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
  for (const fn of stack.node.findAll()) {
    if (!(fn instanceof lambda.CfnFunction)) continue;
    const config = (fn.loggingConfig ?? {}) as lambda.CfnFunction.LoggingConfigProperty;
    if (config.logGroup) continue;
    // A child of the function's L2 construct, so its logical id starts with the function's.
    const logGroup = new logs.LogGroup(fn.node.scope!, "Logs", { retention });
    fn.loggingConfig = { ...config, logGroup: logGroup.logGroupName };
  }
  for (const logGroup of stack.node.findAll()) {
    if (!(logGroup instanceof logs.CfnLogGroup)) continue;
    logGroup.retentionInDays = retention;
    logGroup.applyRemovalPolicy(removal);
  }
}
