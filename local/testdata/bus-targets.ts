import type { Context } from "aws-lambda";

/**
 * Rule targets for local/bus.test.ts, loaded by the bus from their SST handler strings
 * ("local/testdata/bus-targets.record"). Calls are kept on globalThis so the test sees them whichever module
 * instance the bus imported.
 */
export interface TargetCall {
  target: string;
  event: { id: string; source: string; "detail-type": string; detail: Record<string, unknown> };
  functionName: string;
}

const g = globalThis as { __busTargetCalls?: TargetCall[] };
g.__busTargetCalls ??= [];
export const calls: TargetCall[] = g.__busTargetCalls;

function note(target: string, event: TargetCall["event"], context: Context): void {
  calls.push({ target, event, functionName: context.functionName });
}

export async function record(event: TargetCall["event"], context: Context): Promise<void> {
  note("record", event, context);
}

export async function alwaysFails(event: TargetCall["event"], context: Context): Promise<void> {
  note("alwaysFails", event, context);
  throw new Error("target is down");
}

/** Fails the first attempt for each event, then succeeds. */
export async function failsOnce(event: TargetCall["event"], context: Context): Promise<void> {
  const seen = calls.some((c) => c.target === "failsOnce" && c.event.id === event.id);
  note("failsOnce", event, context);
  if (!seen) throw new Error("first attempt fails");
}
