import type { AttemptResult, DeliveryStore } from "../core/ports/deliveries.js";

/**
 * Records attempt results in batches. One write at a time: results finished meanwhile wait and go
 * together in the next one, so batches grow with load instead of queueing up (and a delivery's
 * results land in order).
 */
export class ResultRecorder {
  private results: AttemptResult[] = [];
  private flushScheduled = false;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly deliveries: DeliveryStore,
    private readonly onError: (error: unknown, where: string) => void,
    private readonly stopping: () => boolean,
  ) {}

  /** Gathers a result; a flush runs on the next turn of the event loop. */
  add(r: AttemptResult): void {
    this.results.push(r);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /** Resolves when everything gathered before the call is recorded. */
  flush(): Promise<void> {
    this.flushScheduled = false;
    this.writing ??= this.drain().finally(() => (this.writing = undefined));
    return this.writing;
  }

  private async drain(): Promise<void> {
    while (this.results.length > 0) {
      const batch = this.results;
      this.results = [];
      await this.record(batch);
    }
  }

  /** Until it lands: a lost result would leave its delivery claimed by this live worker, renewed and never sent again. */
  private async record(batch: AttemptResult[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deliveries.recordAttempts(batch);
      } catch (e) {
        this.onError(e, `recording ${batch.length} delivery attempts (try ${attempt})`);
        // Stopping: give up after a few tries; the claims lapse and another worker delivers again (at-least-once).
        if (this.stopping() && attempt >= 3) return;
        await new Promise((r) => setTimeout(r, Math.min(5000, 50 * 2 ** attempt)));
      }
    }
  }
}
