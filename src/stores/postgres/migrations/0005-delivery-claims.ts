import type { Migration } from "./migration.js";

/**
 * Delivery claims: any number of workers share a subscription's deliveries (docs/architecture.md).
 * Claims are cleared when a delivery leaves 'pending', so the claimed index stays small.
 */
export const deliveryClaims: Migration = {
  version: 5,
  name: "delivery claims",
  sql: (s) => `
    ALTER TABLE ${s}.deliveries ADD COLUMN claimed_by text, ADD COLUMN claim_until bigint;
    CREATE INDEX deliveries_claimed ON ${s}.deliveries (subscription_id, subject) WHERE claimed_by IS NOT NULL;
    CREATE INDEX deliveries_pending_by_seq ON ${s}.deliveries (subscription_id, seq, pos) WHERE state = 'pending';
    CREATE INDEX deliveries_pending_by_subject ON ${s}.deliveries (subscription_id, subject, seq, pos) WHERE state = 'pending';
  `,
};
