import type { App } from "sst/constructs";

/**
 * Physical names that other stacks (and the functions' environment) need before the resource exists. They
 * follow SST's `${stage}-${app}-${name}` convention, so two stages never collide in one account, and they are
 * plain strings: a function in another stack can be granted access to the table without a cross-stack export.
 */
export const tableName = (app: App) => app.logicalPrefixedName("Table");
export const eventBusName = (app: App) => app.logicalPrefixedName("Bus");

/**
 * Stages whose data must outlive the stack: the table is retained on `sst remove` and has deletion protection.
 * Every other stage ("dev", personal stages, "test", CI previews) is disposable and is destroyed with its stack.
 */
export const isProtectedStage = (stage: string) => stage === "prod" || stage === "staging";
