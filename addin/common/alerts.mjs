// Alerts for the sender (a misdirected message was opened, a reminder to decide on an
// incident...): live from the server-sent-events stream while it is open, by polling
// `GET /api/v1/alerts?after=SEQ` when it is not. Every alert is delivered once, in sequence
// order, whichever way it came; the caller persists `lastSeq` so that a restart resumes.

import { ApiError } from "./api.mjs";

export class AlertFeed {
  /**
   * @param {object} options
   * @param {import("./api.mjs").ApiClient} options.client
   * @param {number|null} options.lastSeq  the last alert delivered; null: none yet, so the
   *   first sync only learns where the feed is and delivers nothing older
   * @param {(alert: object, via: "stream" | "poll") => void} options.onAlert
   * @param {(seq: number) => void} [options.onSeq]  persist the position
   * @param {typeof EventSource} [options.EventSource]  absent: polling only
   * @param {number} [options.pollMs]  polling interval while the stream is down
   */
  constructor({ client, lastSeq = null, onAlert, onSeq = () => {}, EventSource = globalThis.EventSource, pollMs = 30_000 }) {
    this.client = client;
    this.lastSeq = lastSeq;
    this.onAlert = onAlert;
    this.onSeq = onSeq;
    this.EventSource = EventSource;
    this.pollMs = pollMs;
    this.stream = null;
    this.timer = null;
    this.unsupported = false;
    this.stopped = false;
  }

  /** Catches up by polling, then opens the live stream (or keeps polling without one). */
  async start() {
    this.stopped = false;
    await this.poll();
    if (!this.stopped) this.openStream();
  }

  stop() {
    this.stopped = true;
    this.stream?.close();
    this.stream = null;
    clearInterval(this.timer);
    this.timer = null;
  }

  get live() {
    return this.stream !== null && this.stream.readyState !== 2;
  }

  openStream() {
    if (!this.EventSource || this.unsupported || this.live) return;
    let source;
    try {
      source = new this.EventSource(this.client.alertStreamUrl({ after: this.lastSeq ?? undefined }));
    } catch {
      this.startPolling();
      return;
    }
    this.stream = source;
    source.addEventListener("alert", (event) => {
      try {
        this.deliver(JSON.parse(event.data), "stream");
      } catch (err) {
        console.warn("leakwatch: unreadable alert on the stream", err);
      }
    });
    source.addEventListener("open", () => {
      clearInterval(this.timer);
      this.timer = null;
    });
    source.addEventListener("error", () => {
      // EventSource reconnects by itself unless the server refused (then it is CLOSED).
      if (source.readyState === 2) {
        if (this.stream === source) this.stream = null;
        this.startPolling();
      }
    });
  }

  startPolling() {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      this.poll().then(() => this.openStream());
    }, this.pollMs);
  }

  /** One `GET /api/v1/alerts?after=`; delivers what is new. Never throws. */
  async poll() {
    if (this.unsupported) return [];
    let alerts;
    try {
      ({ alerts } = await this.client.alerts({ after: this.lastSeq ?? undefined }));
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) this.unsupported = true;
      if (!(err instanceof ApiError)) console.warn("leakwatch: alert poll failed", err);
      return [];
    }
    const sorted = [...(alerts ?? [])].sort((a, b) => a.seq - b.seq);
    if (this.lastSeq === null) {
      // First sync: remember the position, deliver nothing from before the sign-in.
      const seq = sorted.length ? sorted[sorted.length - 1].seq : 0;
      this.lastSeq = seq;
      this.onSeq(seq);
      return [];
    }
    return sorted.filter((alert) => this.deliver(alert, "poll"));
  }

  /** Delivers an alert once; false when it was already delivered. `via`: "stream" or "poll". */
  deliver(alert, via = "stream") {
    if (typeof alert?.seq !== "number") return false;
    if (this.lastSeq !== null && alert.seq <= this.lastSeq) return false;
    this.lastSeq = alert.seq;
    this.onSeq(alert.seq);
    this.onAlert(alert, via);
    return true;
  }
}
