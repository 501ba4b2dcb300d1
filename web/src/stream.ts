/**
 * The Server-Sent Events stream of alarms and live values, kept open while signed in.
 *
 * EventSource reconnects by itself after a dropped connection; it gives up only when the
 * server answers with an error status, and then this class retries with a capped, jittered
 * backoff. A `closed` event (the server dropped a subscriber that fell behind) ends the
 * stream; it is reopened at once. Every (re)opening calls `onOpen`, where the caller
 * refetches the alarm list so that transitions missed while disconnected are not lost.
 */
import { ref } from "vue";

import { type Alarm, type ValuesEvent, streamUrl } from "./api";

export type StreamStatus = "connecting" | "connected" | "reconnecting";

export interface StreamHandlers {
  onAlarm: (alarm: Alarm) => void;
  onValues: (event: ValuesEvent) => void;
  onOpen: () => void;
  /** The server refused the stream; the caller checks whether the session is still valid. */
  onRefused: () => void;
}

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 15_000;

export class LiveStream {
  readonly status = ref<StreamStatus>("connecting");
  private source: EventSource | null = null;
  private retryTimer: number | undefined;
  private retryMs = RETRY_MIN_MS;
  private stopped = false;

  constructor(private readonly handlers: StreamHandlers) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
  }

  private reopen(delayMs: number): void {
    this.source?.close();
    this.source = null;
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => {
      if (!this.stopped) this.open();
    }, delayMs);
  }

  private open(): void {
    const source = new EventSource(streamUrl());
    this.source = source;
    source.onopen = () => {
      this.status.value = "connected";
      this.retryMs = RETRY_MIN_MS;
      this.handlers.onOpen();
    };
    source.onerror = () => {
      if (this.stopped || this.source !== source) return;
      this.status.value = "reconnecting";
      if (source.readyState === EventSource.CLOSED) {
        this.handlers.onRefused();
        this.reopen(this.retryMs * (0.75 + Math.random() / 2));
        this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
      }
    };
    source.addEventListener("closed", () => {
      this.status.value = "reconnecting";
      this.reopen(0);
    });
    source.addEventListener("alarm", (event: MessageEvent<string>) => {
      this.handlers.onAlarm(JSON.parse(event.data) as Alarm);
    });
    source.addEventListener("values", (event: MessageEvent<string>) => {
      this.handlers.onValues(JSON.parse(event.data) as ValuesEvent);
    });
  }
}
