import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Context } from "aws-lambda";
import { ulid } from "ulid";

/** How the local runtime loads and calls handlers the way Lambda does: one loader for routes, rules, stream and jobs. */
const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const modules = new Map<string, Promise<unknown>>();

/**
 * Imports a handler by its SST handler string the way Lambda (and the local gateway) loads it:
 * "functions/events/payments.handler" -> export `handler` of `<root>/functions/events/payments.ts`.
 */
export function importHandler<F = (...args: never[]) => unknown>(spec: string): Promise<F> {
  let loaded = modules.get(spec);
  if (!loaded) {
    const match = /^(.+)\.([A-Za-z_$][\w$]*)$/.exec(spec);
    if (!match) return Promise.reject(new Error(`handler ${JSON.stringify(spec)} is not "path/to/file.exportName"`));
    const [, file, exportName] = match as unknown as [string, string, string];
    loaded = import(pathToFileURL(join(root, `${file}.ts`)).href).then((m: Record<string, unknown>) => {
      const fn = m[exportName];
      if (typeof fn !== "function") throw new Error(`${file}.ts has no function export ${exportName}`);
      return fn;
    });
    loaded.catch(() => modules.delete(spec));
    modules.set(spec, loaded);
  }
  return loaded as Promise<F>;
}

export function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: "1024",
    awsRequestId: ulid(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
