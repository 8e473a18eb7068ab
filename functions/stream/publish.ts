import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { config } from "../../core/config.js";
import { type OutboundEvent, toOutboundEvents } from "../../core/events/outbox.js";
import { lambdaHandler } from "../lambda.js";
import { count, logger } from "../powertools.js";
import { publishEvents } from "./publisher.js";

let client: EventBridgeClient | undefined;
function eventBridge(): { client: EventBridgeClient; busName: string } {
  const { eventBusName: busName, eventBridgeEndpoint: endpoint, region } = config();
  if (!busName) throw new Error("ORDERLINE_EVENT_BUS is not set");
  client ??= new EventBridgeClient(endpoint ? { endpoint, region } : {});
  return { client, busName };
}

/** Test seam: the client the publisher uses (e.g. one with fault-injecting middleware). */
export function setEventBridgeClient(next: EventBridgeClient | undefined): void {
  client = next;
}

function eventsOf(record: DynamoDBRecord): OutboundEvent[] {
  if (record.eventName !== "INSERT" || !record.dynamodb?.NewImage) return [];
  return toOutboundEvents(unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>));
}

function sequenceOf(record: DynamoDBRecord): bigint {
  return BigInt(record.dynamodb?.SequenceNumber ?? "0");
}

/**
 * Publishes the batch's events, then settles each record. Records of one order (or relay) are published in
 * stream order: once one fails, every later record with the same stream key is held back and failed too, so the
 * retry resends them in order (consumers drop duplicates by `eventId`).
 */
async function publishBatch(records: DynamoDBRecord[]): Promise<Map<DynamoDBRecord, Error | undefined>> {
  const outcome = new Map<DynamoDBRecord, Error | undefined>();
  const events: OutboundEvent[] = [];
  const owners: DynamoDBRecord[] = [];
  /** The sequence number of the first poison record of each partition in this batch. */
  const poisoned = new Map<string, bigint>();
  for (const record of records) {
    const partition = record.dynamodb?.Keys?.pk?.S ?? "";
    try {
      for (const event of eventsOf(record)) {
        events.push(event);
        owners.push(record);
      }
      outcome.set(record, undefined);
    } catch (error) {
      // A record that cannot be mapped will never succeed: it is failed, so the mapping's retries end in the
      // on-failure queue where it can be inspected, and the later records of its order are held back with it.
      count("stream_poison_record_total");
      logger.error("poison stream record", {
        sequence: record.dynamodb?.SequenceNumber,
        partition,
        error: error as Error,
      });
      outcome.set(record, error as Error);
      if (!poisoned.has(partition)) poisoned.set(partition, sequenceOf(record));
    }
  }
  // Records after a poisoned one of the same partition wait for it (the stream delivers a partition in order).
  for (let i = events.length - 1; i >= 0; i--) {
    const poison = poisoned.get(events[i]!.streamKey);
    if (poison === undefined || sequenceOf(owners[i]!) < poison) continue;
    outcome.set(owners[i]!, new Error(`held back behind a poison record of ${events[i]!.streamKey}`));
    events.splice(i, 1);
    owners.splice(i, 1);
  }
  if (events.length === 0) return outcome;
  const { client: eb, busName } = eventBridge();
  const { failed } = await publishEvents(eb, busName, events);
  events.forEach((event, i) => {
    if (failed.has(i))
      outcome.set(owners[i]!, new Error(`PutEvents failed for ${event.detailType} (${event.streamKey})`));
  });
  if (failed.size > 0) count("stream_publish_failed_total", {}, failed.size);
  count("stream_published_total", {}, events.length - failed.size);
  return outcome;
}

/**
 * DynamoDB Streams -> EventBridge (the transactional outbox). Powertools' BatchProcessor reports per-record
 * failures (ReportBatchItemFailures); every record handler awaits one shared batch publication.
 */
export async function publish(event: DynamoDBStreamEvent, context: Context) {
  const settled = publishBatch(event.Records);
  const processor = new BatchProcessor(EventType.DynamoDBStreams);
  return processPartialResponse(
    event,
    async (record: DynamoDBRecord) => {
      const error = (await settled).get(record);
      if (error) throw error;
    },
    processor,
    { context },
  );
}

export const handler = lambdaHandler(publish);
