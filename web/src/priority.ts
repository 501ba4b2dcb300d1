/**
 * Alarm priorities as the operator sees them: rank for sorting and one colour each.
 *
 * Red for critical and high, orange for medium, yellow for low — the same hues as the
 * red/orange/yellow/blue warning grades, so a colour means one thing across the console.
 */
import type { AlarmState, Priority } from "./api";

export const PRIORITY_RANK: Record<Priority, number> = {
  critical: 0,
  high: 1,
  medium: 2,
  low: 3,
};

export const PRIORITY_COLOR: Record<Priority, string> = {
  critical: "#ff1f3d",
  high: "#ff5a4f",
  medium: "#ff9f1a",
  low: "#f2d43d",
};

/** States that still wait for an operator: ISA-18.2 shows them flashing. */
export const UNACKED_STATES: ReadonlySet<AlarmState> = new Set<AlarmState>([
  "unacknowledged",
  "returned_unacknowledged",
]);
