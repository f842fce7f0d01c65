/**
 * The destination port: what the delivery engine needs from a transport (an HTTP POST, a JetStream
 * publish). One attempt, never throwing for transport-level problems: every outcome is a result.
 */
export interface WebhookSendResult {
  status?: number;
  latencyMs: number;
  responseHead?: string;
  retryAfter?: string;
  location?: string;
  error?: string;
}

export type WebhookSend = (url: string, request: { body: string; headers: Record<string, string> }) => Promise<WebhookSendResult>;
