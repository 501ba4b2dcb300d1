/**
 * The operator's alarm board: every alarm not in state `normal`, kept current from the
 * list endpoint and the stream.
 *
 * An alarm's `seq` orders its transitions, so an update older than what the board holds is
 * ignored — also for alarms that were dropped on returning to normal (a tombstone keeps
 * their last `seq`). A full refetch may race with stream events: whatever the stream
 * delivered after the refetch started wins over the fetched list.
 */
import { computed, shallowRef, triggerRef } from "vue";

import type { Alarm } from "./api";
import { PRIORITY_RANK, UNACKED_STATES } from "./priority";

function activatedMs(alarm: Alarm): number {
  const ts = Date.parse(alarm.activated_at ?? alarm.updated_at);
  return Number.isFinite(ts) ? ts : 0;
}

/** Highest priority first; within a priority, the most recent activation first. */
export function compareAlarms(a: Alarm, b: Alarm): number {
  return (
    PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] ||
    activatedMs(b) - activatedMs(a) ||
    a.id.localeCompare(b.id)
  );
}

export class AlarmBoard {
  private readonly byId = shallowRef(new Map<string, Alarm>());
  private readonly tombstones = new Map<string, number>();
  /** When (in board updates) each alarm was last written by the stream. */
  private readonly writtenAt = new Map<string, number>();
  private updates = 0;

  readonly sorted = computed(() => [...this.byId.value.values()].sort(compareAlarms));
  readonly unackedCount = computed(
    () => this.sorted.value.filter((alarm) => UNACKED_STATES.has(alarm.state)).length,
  );

  get(id: string): Alarm | undefined {
    return this.byId.value.get(id);
  }

  /** A marker to pass to `replaceAll` for a list fetched from now on. */
  mark(): number {
    return this.updates;
  }

  /** Apply one alarm as the stream or an acknowledge response reports it. */
  upsert(alarm: Alarm): void {
    const map = this.byId.value;
    const held = map.get(alarm.id)?.seq ?? this.tombstones.get(alarm.id);
    if (held !== undefined && held > alarm.seq) return;
    this.updates += 1;
    this.writtenAt.set(alarm.id, this.updates);
    if (alarm.state === "normal") {
      map.delete(alarm.id);
      this.tombstones.set(alarm.id, alarm.seq);
    } else {
      map.set(alarm.id, alarm);
      this.tombstones.delete(alarm.id);
    }
    triggerRef(this.byId);
  }

  /** Replace the board with a fetched list, keeping stream updates newer than `since`. */
  replaceAll(alarms: Alarm[], since: number): void {
    const old = this.byId.value;
    const next = new Map<string, Alarm>();
    const fresh = (id: string) => (this.writtenAt.get(id) ?? -1) > since;
    for (const alarm of alarms) {
      if (alarm.state === "normal") continue;
      const held = old.get(alarm.id);
      if (held !== undefined && held.seq > alarm.seq) {
        next.set(alarm.id, held);
      } else if ((this.tombstones.get(alarm.id) ?? -1) < alarm.seq) {
        next.set(alarm.id, alarm);
      }
    }
    for (const [id, alarm] of old) {
      if (!next.has(id) && fresh(id)) next.set(id, alarm);
    }
    this.byId.value = next;
  }

  clear(): void {
    this.byId.value = new Map();
    this.tombstones.clear();
    this.writtenAt.clear();
  }
}
