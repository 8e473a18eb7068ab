import { ulid } from "ulid";
import type { Actor } from "../schema.js";
import { Entity, keys } from "../store/table.js";
import type { TransactItem } from "../store/transact.js";
import type { AuditKind, Relay, RelayAudit } from "./model.js";

/** Event type the stream publisher gives an audit entry (source `orderline.relays`); unpublished when absent. */
export type PublishAs = "RELAY_CREATED" | "RELAY_STATUS_CHANGED" | "RELAY_SEND_FAILED";

export interface AuditEntry {
  kind: AuditKind;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  reason?: string | null;
  request?: Record<string, unknown> | null;
  response?: Record<string, unknown> | null;
  success?: boolean;
  latencyMs?: number | null;
  attempt?: number | null;
  requestedBy?: string;
  approvedBy?: string;
  publishAs?: PublishAs;
}

/**
 * Puts of the audit entries of one change, meant for the same TransactWriteItems as the change itself: an entry
 * exists if and only if its change committed. Keys sort by the relay version the change produced, so the log
 * reads oldest first; each put is conditional on its key being new. `relay` is the relay after the change (its
 * status is what the entry and its published event carry); `suffix` keeps an entry written outside a change (a
 * supplier call whose result could not be applied) apart from that version's own entries.
 */
export function auditPuts(
  tableName: string,
  relay: Relay,
  entries: AuditEntry[],
  who: Actor,
  at: string,
  suffix = "",
): TransactItem[] {
  return entries.map((entry, index) => {
    const key = keys.relayAudit(relay.relayId, relay.version, `${suffix}${index}`);
    const record: RelayAudit & { publishAs?: PublishAs; ecommerceOrderId?: string } = {
      auditId: ulid(),
      relayId: relay.relayId,
      listingId: relay.listingId,
      orderNumber: relay.orderNumber,
      status: relay.status,
      kind: entry.kind,
      before: entry.before,
      after: entry.after,
      actor: who.actor,
      reason: entry.reason ?? null,
      request: entry.request ?? null,
      response: entry.response ?? null,
      success: entry.success ?? true,
      latencyMs: entry.latencyMs ?? null,
      attempt: entry.attempt ?? null,
      ...(entry.requestedBy !== undefined ? { requestedBy: entry.requestedBy } : {}),
      ...(entry.approvedBy !== undefined ? { approvedBy: entry.approvedBy } : {}),
      requestId: who.requestId,
      createdAt: at,
      ...(entry.publishAs ? { publishAs: entry.publishAs } : {}),
      // Published entries name the ecommerce order, so the status-sync rule can match on it (`exists`).
      ...(entry.publishAs && relay.ecommerceOrderId ? { ecommerceOrderId: relay.ecommerceOrderId } : {}),
    };
    return {
      Put: {
        TableName: tableName,
        Item: { ...key, entity: Entity.RelayAudit, ...record },
        ConditionExpression: "attribute_not_exists(pk)",
      },
    };
  });
}
