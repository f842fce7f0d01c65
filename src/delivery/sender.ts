/** What the engine needs from a webhook transport: one POST, never throwing for HTTP-level problems. */
export interface WebhookSendResult {
  status?: number;
  latencyMs: number;
  responseHead?: string;
  retryAfter?: string;
  location?: string;
  error?: string;
}

export type WebhookSend = (url: string, request: { body: string; headers: Record<string, string> }) => Promise<WebhookSendResult>;
