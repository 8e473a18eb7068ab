import { Config, type StackContext } from "sst/constructs";
import { tableName } from "./naming.js";
import { createOrderlineTable } from "./table.js";

/** The table (stacks/table.ts) and the app's one secret. */
export function Data({ app, stack }: StackContext) {
  const table = createOrderlineTable(stack, "Table", { stage: app.stage, tableName: tableName(app) });

  // The secret lives here rather than in Events because Api (which runs before Events) binds it too.
  // Set it per stage with `npx sst secrets set SUPPLIER_SIGNING_SECRET <value> --stage <stage>`.
  const supplierSigningSecret = new Config.Secret(stack, "SUPPLIER_SIGNING_SECRET");

  stack.addOutputs({ TableName: table.tableName });
  return { table, supplierSigningSecret };
}
