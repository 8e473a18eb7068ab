import type { TestProject } from "vitest/node";
import { startDynamoLocal } from "../../local/dynamo.js";

declare module "vitest" {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

/** One DynamoDB Local for the whole run; every test file creates its own table in it. */
export default async function setup(project: TestProject) {
  const started = Date.now();
  const dynamo = await startDynamoLocal();
  console.log(`DynamoDB Local started in ${Date.now() - started} ms at ${dynamo.endpoint}`);
  project.provide("dynamoEndpoint", dynamo.endpoint);
  return async () => {
    await dynamo.stop();
  };
}
