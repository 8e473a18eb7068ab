import { ulid } from "ulid";
import type { Actor } from "../schema.js";
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

/** An audit entry as stored: the entry itself, and what the stream publisher reads to publish it. */
export type StoredAudit = RelayAudit & { publishAs?: PublishAs; ecommerceOrderId?: string };

/**
 * The record of one audit entry of a change. `relay` is the relay after the change: its status is what the entry
 * and its published event carry.
 */
export function auditRecord(relay: Relay, entry: AuditEntry, who: Actor, at: string): StoredAudit {
  return {
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
}
