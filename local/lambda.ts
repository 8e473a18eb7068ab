import { AsyncLocalStorage } from "node:async_hooks";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Context } from "aws-lambda";
import { ulid } from "ulid";

/** How the local runtime loads and calls handlers the way Lambda does: one loader for routes, rules, stream and jobs. */
const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const modules = new Map<string, Promise<unknown>>();

type InvocationContext = Record<PropertyKey, unknown>;

/** The keys the Lambda runtime sets on each invocation's context (those of `@aws/lambda-invoke-store`). */
const REQUEST_ID = Symbol.for("_AWS_LAMBDA_REQUEST_ID");
const X_RAY_TRACE_ID = Symbol.for("_AWS_LAMBDA_X_RAY_TRACE_ID");
const TENANT_ID = Symbol.for("_AWS_LAMBDA_TENANT_ID");

/**
 * The per-invocation store the Lambda runtime provides when one execution environment runs invocations
 * concurrently (`globalThis.awslambda.InvokeStore`, backed by AsyncLocalStorage when `AWS_LAMBDA_MAX_CONCURRENCY`
 * is set). Powertools keeps its per-invocation state there (the logger's Lambda context, keys and log level);
 * without it that state is one slot per process, and the local runtime, which serves many requests at once in one
 * process, printed on a request's log lines the function name and request id of whichever invocation started last.
 */
class LocalInvokeStore {
  private readonly als = new AsyncLocalStorage<InvocationContext>();
  getContext(): InvocationContext | undefined {
    return this.als.getStore();
  }
  hasContext(): boolean {
    return this.als.getStore() !== undefined;
  }
  get(key: PropertyKey): unknown {
    return this.als.getStore()?.[key];
  }
  set(key: PropertyKey, value: unknown): void {
    if (key === REQUEST_ID || key === X_RAY_TRACE_ID || key === TENANT_ID)
      throw new Error(`Cannot modify protected Lambda context field: ${String(key)}`);
    const store = this.als.getStore();
    if (!store) throw new Error("No context available");
    store[key] = value;
  }
  run<T>(context: InvocationContext, fn: () => T): T {
    return this.als.run(context, fn);
  }
  getRequestId(): string {
    return (this.get(REQUEST_ID) as string | undefined) ?? "-";
  }
  getXRayTraceId(): string | undefined {
    return this.get(X_RAY_TRACE_ID) as string | undefined;
  }
  getTenantId(): string | undefined {
    return this.get(TENANT_ID) as string | undefined;
  }
}

let store: LocalInvokeStore | undefined;

/** Installs the store the way the runtime does for concurrent invocations (once per process). */
function invokeStore(): LocalInvokeStore {
  if (store) return store;
  const global = globalThis as { awslambda?: { InvokeStore?: unknown } };
  global.awslambda ??= {};
  store = new LocalInvokeStore();
  global.awslambda.InvokeStore = store;
  // What tells Powertools that invocations share the process and its state must live in the store.
  process.env.AWS_LAMBDA_MAX_CONCURRENCY ||= "1000";
  return store;
}

/** Calls a handler as Lambda invokes it: inside its own invocation context, so concurrent invocations do not share state. */
export function invoke<E, R>(fn: (event: E, context: Context) => R, event: E, context: Context): R {
  return invokeStore().run({ [REQUEST_ID]: context.awsRequestId }, () => fn(event, context));
}

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
      return (event: unknown, context: Context) =>
        invoke(fn as (event: unknown, context: Context) => unknown, event, context);
    });
    loaded.catch(() => modules.delete(spec));
    modules.set(spec, loaded);
  }
  return loaded as Promise<F>;
}

/** A Lambda context whose remaining time counts down from `timeoutMs` (the local functions' timeout). */
export function lambdaContext(functionName: string, timeoutMs = 30_000): Context {
  const end = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: "1024",
    awsRequestId: ulid(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, end - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
