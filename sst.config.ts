import { Stack } from "aws-cdk-lib";
import type { SSTConfig } from "sst";
import { Admin } from "./stacks/Admin.js";
import { Api } from "./stacks/Api.js";
import { Data } from "./stacks/Data.js";
import { Events } from "./stacks/Events.js";
import { manageLogGroups } from "./stacks/functions.js";
import { tableName } from "./stacks/naming.js";
import { Ops } from "./stacks/Ops.js";
import { METRICS_NAMESPACE, SERVICE_NAME } from "./stacks/observability.js";

export default {
  config() {
    return { name: "orderline", region: process.env.AWS_REGION || "us-east-1" };
  },
  stacks(app) {
    // Applies to every SST Function created afterwards, i.e. all of ours (stacks/functions.ts).
    app.setDefaultFunctionProps({
      runtime: "nodejs24.x",
      architecture: "arm_64",
      tracing: "active",
      environment: {
        // A fixed per-stage name (not a token), so no stack needs a cross-stack export to know it.
        ORDERLINE_TABLE: tableName(app),
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      },
      // ESM output; SST adds the `createRequire` banner itself so bundled CommonJS dependencies still load.
      // The AWS SDK v3 ships with the nodejs24.x runtime, so it stays out of the bundles (cold start: every bundle
      // must stay under 500 KB); minified, with source maps for readable stack traces.
      nodejs: { format: "esm", minify: true, esbuild: { external: ["@aws-sdk/*"] } },
    });
    app.stack(Data).stack(Api).stack(Events).stack(Ops).stack(Admin);
    // After every stack exists: covers each function, SST's own per-stack handler and the API access log.
    for (const stack of app.node.children) if (Stack.isStack(stack)) manageLogGroups(stack, app.stage);
  },
} satisfies SSTConfig;
