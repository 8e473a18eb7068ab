import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import type { OutboundEvent } from "../../core/events/outbox.js";
import { Backoff } from "../../core/retry.js";

/** PutEvents limits: at most 10 entries and 256 KB per call. */
const MAX_ENTRIES = 10;
const MAX_BYTES = 256 * 1024;
/** Tries per entry, the first included (each round of retries also stops at the invocation's deadline). */
const TRIES = 4;

export interface PublishOutcome {
  /** Index into the input of every event that could not be published after retries. */
  failed: Set<number>;
}

function entrySize(entry: PutEventsRequestEntry): number {
  // EventBridge counts Source, DetailType, Detail, Resources and Time bytes; 14 bytes for Time.
  return (
    Buffer.byteLength(entry.Source ?? "") +
    Buffer.byteLength(entry.DetailType ?? "") +
    Buffer.byteLength(entry.Detail ?? "") +
    14
  );
}

function chunks(indexes: number[], entries: PutEventsRequestEntry[]): number[][] {
  const out: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  for (const i of indexes) {
    const size = entrySize(entries[i]!);
    if (current.length > 0 && (current.length === MAX_ENTRIES || bytes + size > MAX_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Sends `indexes` (in calls of at most 10 entries / 256 KB), retrying rejected entries; returns those still failing. */
async function sendWithRetries(
  client: EventBridgeClient,
  entries: PutEventsRequestEntry[],
  indexes: number[],
): Promise<number[]> {
  let pending = indexes;
  const backoff = new Backoff({ baseMs: 100, maxTries: TRIES });
  while (pending.length > 0) {
    // The calls of one round carry events of different keys only, so they may run side by side.
    const outcomes = await Promise.all(
      chunks(pending, entries).map(async (chunk) => {
        try {
          const result = await client.send(new PutEventsCommand({ Entries: chunk.map((i) => entries[i]!) }));
          if (!result.FailedEntryCount) return [];
          return chunk.filter((_, j) => {
            const entry = result.Entries?.[j];
            return !entry || entry.ErrorCode || !entry.EventId;
          });
        } catch {
          return chunk;
        }
      }),
    );
    pending = outcomes.flat().sort((a, b) => a - b);
    if (pending.length > 0 && !(await backoff.wait())) break;
  }
  return pending;
}

/**
 * Publishes events with PutEvents in stream order per `streamKey` (one order's or relay's events): each round sends
 * the next event of every key whose earlier events were all accepted, so an event never goes out before the one
 * before it. Entries the service rejects (`FailedEntryCount`, per-entry `ErrorCode`) are retried with backoff; an
 * entry still failing blocks the rest of its key. What failed or was held back is returned, never dropped.
 */
export async function publishEvents(
  client: EventBridgeClient,
  busName: string,
  events: OutboundEvent[],
): Promise<PublishOutcome> {
  const entries: PutEventsRequestEntry[] = events.map((e) => ({
    Source: e.source,
    DetailType: e.detailType,
    Detail: JSON.stringify(e.detail),
    EventBusName: busName,
  }));
  const queues = new Map<string, number[]>();
  for (const [i, event] of events.entries()) {
    const queue = queues.get(event.streamKey);
    if (queue) queue.push(i);
    else queues.set(event.streamKey, [i]);
  }
  for (const queue of queues.values()) queue.sort((a, b) => (events[a]!.position < events[b]!.position ? -1 : 1));
  const failed = new Set<number>();
  while (queues.size > 0) {
    const round = [...queues.values()].map((queue) => queue.shift()!);
    for (const [key, queue] of queues) if (queue.length === 0) queues.delete(key);
    for (const i of await sendWithRetries(client, entries, round)) {
      const key = events[i]!.streamKey;
      failed.add(i);
      for (const held of queues.get(key) ?? []) failed.add(held);
      queues.delete(key);
    }
  }
  return { failed };
}
