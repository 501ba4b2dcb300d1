/**
 * Live readings from the stream, and the plant clock they imply.
 *
 * The server may run plant time faster than the wall clock (simulation), so "now" for
 * history queries is the wall clock shifted by the offset last seen in a `values` event.
 * Readings are kept in a plain Map (a plant has many tags); `tick` changes on every event
 * so views that show a few of them can re-read.
 */
import { ref } from "vue";

import type { LiveSample, ValuesEvent } from "./api";

type Listener = (event: ValuesEvent) => void;

export class LiveValues {
  readonly latest = new Map<number, LiveSample>();
  readonly tick = ref(0);
  /** True once a `values` event has set the plant clock. */
  readonly synced = ref(false);
  private offsetMs = 0;
  private readonly listeners = new Set<Listener>();

  /** Plant time now, epoch milliseconds. */
  now(): number {
    return Date.now() + this.offsetMs;
  }

  accept(event: ValuesEvent): void {
    const ts = Date.parse(event.ts);
    if (Number.isFinite(ts)) {
      this.offsetMs = ts - Date.now();
      this.synced.value = true;
    }
    for (const [id, sample] of Object.entries(event.values)) {
      this.latest.set(Number(id), sample);
    }
    this.tick.value += 1;
    for (const listener of this.listeners) listener(event);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  clear(): void {
    this.latest.clear();
    this.offsetMs = 0;
    this.synced.value = false;
    this.tick.value += 1;
  }
}
