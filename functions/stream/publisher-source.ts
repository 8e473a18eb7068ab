import { Entity } from "../../core/store/table.js";

/**
 * The stream publisher's event source: the handler the table stream invokes, and the filter of its event source
 * mapping (Lambda event-filter syntax): only inserted event and audit items reach it. Read by stacks/Events.ts and
 * by the local stream poller (local/poller.ts).
 */
export const streamPublisher = {
  handler: "functions/stream/publish.handler",
  /** The function's timeout (s), deployed and given to the local poller's invocation context alike. */
  timeoutSeconds: 30,
  filter: { eventName: ["INSERT"], dynamodb: { NewImage: { entity: { S: [Entity.OrderEvent, Entity.RelayAudit] } } } },
} as const;
