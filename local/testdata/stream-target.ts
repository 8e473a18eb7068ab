import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";

/**
 * A stream handler for local/poller.test.ts, loaded by the poller from "local/testdata/stream-target.handler".
 * Items steer it: `failTimes: N` reports the record in batchItemFailures on its first N deliveries; `poison: true`
 * makes the whole invocation throw whenever the record is in the batch. State lives on globalThis so the test sees
 * it whichever module instance the poller imported.
 */
interface State {
  /** Every batch handed to the handler, in call order. */
  batches: DynamoDBRecord[][];
  /** Batches the handler completed without reporting anything. */
  succeeded: DynamoDBRecord[][];
  deliveries: Map<string, number>;
}

const g = globalThis as { __streamTarget?: State };
g.__streamTarget ??= { batches: [], succeeded: [], deliveries: new Map() };
export const state: State = g.__streamTarget;

export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  state.batches.push(event.Records);
  const failures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    const seq = record.dynamodb!.SequenceNumber!;
    const n = (state.deliveries.get(seq) ?? 0) + 1;
    state.deliveries.set(seq, n);
    const image = record.dynamodb?.NewImage ?? {};
    if (image.poison?.BOOL) throw new Error(`poison record ${image.pk?.S}`);
    if (image.failTimes?.N && n <= Number(image.failTimes.N)) failures.push({ itemIdentifier: seq });
  }
  if (failures.length === 0) state.succeeded.push(event.Records);
  return { batchItemFailures: failures };
}
