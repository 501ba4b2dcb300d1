/**
 * The typed client of the hazwatch HTTP API (`/api/v1`).
 *
 * Every call sends `Authorization: Bearer <token>` when a token is held. A 401 on any call
 * except the login itself clears the token and runs the handler set with
 * `onUnauthorized` (the app returns to the login form). Failures raise `ApiError` carrying
 * the HTTP status and the server's own message.
 */

export type AlarmState =
  | "normal"
  | "unacknowledged"
  | "acknowledged"
  | "returned_unacknowledged"
  | "shelved"
  | "suppressed"
  | "out_of_service";

export type Priority = "low" | "medium" | "high" | "critical";

export type LimitKind = "HH" | "H" | "L" | "LL";

export type ConditionKind =
  | LimitKind
  | "offline"
  | "frozen"
  | "bad_quality"
  | "device_offline"
  | "degraded";

/** One condition of one tag in its ISA-18.2 lifecycle. Times are ISO 8601 UTC. */
export interface Alarm {
  id: string;
  tag_id: number;
  tag_key: string;
  tag_name: string;
  unit: string;
  condition: ConditionKind;
  state: AlarmState;
  active: boolean;
  priority: Priority;
  value: number | null;
  activated_at: string | null;
  acknowledged_at: string | null;
  shelved_until: string | null;
  updated_at: string;
  /** Increases with every transition of this alarm; a lower one is stale. */
  seq: number;
  message: string;
}

export interface TagLimit {
  kind: LimitKind;
  value: number;
  priority: Priority;
  deadband: number;
  on_delay_s: number;
  off_delay_s: number;
}

export interface Tag {
  id: number;
  key: string;
  name: string;
  unit: string;
  /** Instrument range in engineering units. */
  range_lo: number;
  range_hi: number;
  period_s: number;
  scope_path: string;
  limits: TagLimit[];
}

export interface HistoryPoint {
  ts: string;
  value: number | null;
  /** Present in rollup mode: the extremes of the bucket. */
  min?: number | null;
  max?: number | null;
}

export interface History {
  tag_id: number;
  mode: "raw" | "rollup";
  /** The window the server actually used, ISO 8601. */
  start?: string;
  end?: string;
  points: HistoryPoint[];
}

export interface RoleGrant {
  role: string;
  scope_id: number;
  scope_path: string;
}

export interface Me {
  username: string;
  roles: RoleGrant[];
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
}

/** A live reading: epoch milliseconds, value, quality (0 good, 1 uncertain, 2 bad). */
export type LiveSample = [number, number, number];

/** The `values` event of the stream: tag id (as text) → its latest reading. */
export interface ValuesEvent {
  ts: string;
  values: Record<string, LiveSample>;
}

export class ApiError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

const API = "/api/v1";
const TOKEN_KEY = "hazwatch.token";

let unauthorizedHandler: () => void = () => {};

export function onUnauthorized(handler: () => void): void {
  unauthorizedHandler = handler;
}

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** The server's message from an error body: FastAPI's `detail` (text, object or list). */
function messageOf(body: unknown, fallback: string): string {
  if (typeof body !== "object" || body === null) return fallback;
  const detail: unknown = (body as Record<string, unknown>).detail ?? body;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    const texts = detail
      .map((item: unknown) =>
        typeof item === "object" && item !== null ? (item as Record<string, unknown>).msg : item,
      )
      .filter((text): text is string => typeof text === "string");
    return texts.length > 0 ? texts.join("; ") : fallback;
  }
  if (typeof detail === "object" && detail !== null) {
    const record = detail as Record<string, unknown>;
    for (const key of ["message", "msg", "error"]) {
      if (typeof record[key] === "string") return record[key];
    }
  }
  return fallback;
}

interface RequestOptions {
  json?: unknown;
  form?: Record<string, string>;
  query?: Record<string, string | number | undefined>;
  /** The login call: a 401 there is a wrong password, not an expired session. */
  anonymous?: boolean;
}

async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  let body: BodyInit | undefined;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.form !== undefined) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(options.form).toString();
  }
  const token = getToken();
  if (token !== null && !options.anonymous) headers.Authorization = `Bearer ${token}`;

  let url = API + path;
  if (options.query !== undefined) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query)) {
      if (value !== undefined) params.set(key, String(value));
    }
    const text = params.toString();
    if (text !== "") url += `?${text}`;
  }

  let response: Response;
  try {
    response = await fetch(url, { method, headers, body });
  } catch (error) {
    throw new ApiError(0, error instanceof Error ? error.message : String(error));
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && !options.anonymous) {
      clearToken();
      unauthorizedHandler();
    }
    const fallback = text !== "" && parsed === undefined ? text : `HTTP ${response.status} ${response.statusText}`;
    throw new ApiError(response.status, messageOf(parsed, fallback));
  }
  return parsed as T;
}

export async function login(username: string, password: string): Promise<TokenResponse> {
  const token = await request<TokenResponse>("POST", "/auth/token", {
    form: { username, password },
    anonymous: true,
  });
  setToken(token.access_token);
  return token;
}

export function me(): Promise<Me> {
  return request<Me>("GET", "/me");
}

/** Alarms not in state `normal`, as the server's default filter returns them. */
export function listAlarms(): Promise<Alarm[]> {
  return request<Alarm[]>("GET", "/alarms");
}

export function acknowledgeAlarm(id: string, comment: string): Promise<Alarm> {
  const json = comment.trim() === "" ? {} : { comment: comment.trim() };
  return request<Alarm>("POST", `/alarms/${encodeURIComponent(id)}/acknowledge`, { json });
}

export function getTag(id: number): Promise<Tag> {
  return request<Tag>("GET", `/tags/${id}`);
}

export function searchTags(q: string, limit = 50): Promise<Tag[]> {
  const text = q.trim();
  return request<Tag[]>("GET", "/tags", { query: { q: text === "" ? undefined : text, limit } });
}

/** Readings of one tag over `[start, end]` (epoch ms), thinned by the server to ~`points`. */
export function tagHistory(tagId: number, start: number, end: number, points = 600): Promise<History> {
  return request<History>("GET", `/tags/${tagId}/history`, {
    query: {
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
      points,
    },
  });
}

/** The Server-Sent Events URL; EventSource cannot send headers, so the token rides in the query. */
export function streamUrl(): string {
  const token = getToken() ?? "";
  return `${API}/stream?access_token=${encodeURIComponent(token)}`;
}
