/**
 * The architecture's import rules, checked in .ci/run (`npm run lint:deps`): the domain in core/ knows nothing of
 * Lambda, HTTP, SST, the local runtime or the stacks, and only the store modules (core/store/) talk to the AWS SDK.
 */
module.exports = {
  forbidden: [
    {
      name: "core-stays-inside",
      comment:
        "core/ is the domain: it never imports the function layer, the local runtime, the stacks, benches or tests",
      severity: "error",
      from: { path: "^core/", pathNot: "\\.test\\.ts$" },
      to: { path: "^(functions|local|stacks|bench|scripts|test)/" },
    },
    {
      name: "core-no-platform",
      comment: "no Lambda or SST types or clients in the domain",
      severity: "error",
      from: { path: "^core/", pathNot: "\\.test\\.ts$" },
      to: { path: "node_modules/(aws-lambda|@types/aws-lambda|sst)/" },
    },
    {
      name: "sdk-only-in-store",
      comment: "DynamoDB access lives in core/store: the domain decides, the store writes",
      severity: "error",
      from: { path: "^core/", pathNot: ["^core/store/", "\\.test\\.ts$"] },
      to: { path: "node_modules/@aws-sdk/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
    },
  },
};
