import { Function, type FunctionProps, type StackContext } from "sst/constructs";
import { needsSupplierSecret, type SupplierSecret } from "./secrets.js";
import { tableAccessStatement, type TableAccess } from "./table-access.js";

export interface OrderlineFunctionProps extends Omit<FunctionProps, "handler" | "permissions" | "bind"> {
  /** Handler in SST notation, taken from the route table / event rules. */
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
): Function {
  const fn = new Function(ctx.stack, id, props);
  if (table !== "none") fn.attachPermissions([tableAccessStatement(ctx, table, extraTableActions)]);
  if (needsSupplierSecret(props.handler)) fn.bind([secret]);
  return fn;
}
