/**
 * The page's two languages, zh-CN and English: one flat dictionary each, same keys.
 *
 * `t(key, params)` fills `{name}` placeholders. The starting language comes from an earlier
 * choice kept in localStorage, else from `navigator.language` (zh* → zh-CN, else English).
 */
import { ref } from "vue";

export type Locale = "zh-CN" | "en";

export const LOCALES: readonly { code: Locale; label: string }[] = [
  { code: "zh-CN", label: "中文" },
  { code: "en", label: "English" },
];

const en = {
  "app.subtitle": "Alarm console",
  "login.title": "Operator sign-in",
  "login.username": "Username",
  "login.password": "Password",
  "login.submit": "Sign in",
  "login.busy": "Signing in…",
  "login.failed": "Sign-in failed",
  "header.user": "User",
  "header.logout": "Sign out",
  "header.language": "Language",
  "header.plantTime": "Plant time",
  "header.localTime": "Local time (waiting for live data)",
  "conn.connecting": "Connecting…",
  "conn.connected": "Live",
  "conn.reconnecting": "Reconnecting…",
  "alarms.title": "Active alarms",
  "alarms.total": "{n} active",
  "alarms.unacked": "{n} unacknowledged",
  "alarms.empty": "No alarms outside normal",
  "alarms.comment": "Acknowledgement comment (optional)",
  "alarms.loadFailed": "Could not load alarms: {msg}",
  "alarms.ackFailed": "Acknowledge failed: {msg}",
  "col.priority": "Priority",
  "col.time": "Activated",
  "col.tag": "Tag",
  "col.condition": "Condition",
  "col.value": "Alarm value",
  "col.current": "Current",
  "col.state": "State",
  "col.message": "Message",
  "col.action": "Action",
  "ack.button": "Acknowledge",
  "ack.busy": "…",
  "trend.title": "Trend",
  "trend.search": "Search tags by name or key",
  "trend.none": "Select an alarm row or search for a tag",
  "trend.noMatch": "No matching tags",
  "trend.loading": "Loading…",
  "trend.noData": "No data in this range",
  "trend.failed": "Could not load history: {msg}",
  "trend.raw": "raw",
  "trend.rollup": "rollup, min–max band",
  "trend.range": "Instrument range {lo} – {hi} {unit}",
  "trend.value": "Value",
  "trend.band": "Min–max",
  "range.15m": "15 min",
  "range.1h": "1 h",
  "range.8h": "8 h",
  "range.24h": "24 h",
  "state.normal": "Normal",
  "state.unacknowledged": "Unacknowledged",
  "state.acknowledged": "Acknowledged",
  "state.returned_unacknowledged": "Returned, unacknowledged",
  "state.shelved": "Shelved",
  "state.suppressed": "Suppressed",
  "state.out_of_service": "Out of service",
  "priority.critical": "Critical",
  "priority.high": "High",
  "priority.medium": "Medium",
  "priority.low": "Low",
  "condition.HH": "HH",
  "condition.H": "H",
  "condition.L": "L",
  "condition.LL": "LL",
  "condition.offline": "Offline",
  "condition.frozen": "Frozen",
  "condition.bad_quality": "Bad quality",
  "condition.device_offline": "Device offline",
  "condition.degraded": "Link degraded",
} as const;

export type MessageKey = keyof typeof en;

const zhCN: Record<MessageKey, string> = {
  "app.subtitle": "报警监控台",
  "login.title": "操作员登录",
  "login.username": "用户名",
  "login.password": "密码",
  "login.submit": "登录",
  "login.busy": "正在登录…",
  "login.failed": "登录失败",
  "header.user": "用户",
  "header.logout": "退出",
  "header.language": "语言",
  "header.plantTime": "装置时间",
  "header.localTime": "本地时间（等待实时数据）",
  "conn.connecting": "正在连接…",
  "conn.connected": "实时",
  "conn.reconnecting": "正在重连…",
  "alarms.title": "当前报警",
  "alarms.total": "共 {n} 条",
  "alarms.unacked": "{n} 条未确认",
  "alarms.empty": "没有非正常状态的报警",
  "alarms.comment": "确认备注（可选）",
  "alarms.loadFailed": "无法加载报警：{msg}",
  "alarms.ackFailed": "确认失败：{msg}",
  "col.priority": "优先级",
  "col.time": "报警时间",
  "col.tag": "位号",
  "col.condition": "报警类型",
  "col.value": "报警值",
  "col.current": "当前值",
  "col.state": "状态",
  "col.message": "说明",
  "col.action": "操作",
  "ack.button": "确认",
  "ack.busy": "…",
  "trend.title": "趋势",
  "trend.search": "按名称或位号搜索",
  "trend.none": "选择一条报警或搜索位号",
  "trend.noMatch": "没有匹配的位号",
  "trend.loading": "加载中…",
  "trend.noData": "该时段没有数据",
  "trend.failed": "无法加载历史数据：{msg}",
  "trend.raw": "原始数据",
  "trend.rollup": "汇总数据，最小–最大带",
  "trend.range": "量程 {lo} – {hi} {unit}",
  "trend.value": "数值",
  "trend.band": "最小–最大",
  "range.15m": "15 分钟",
  "range.1h": "1 小时",
  "range.8h": "8 小时",
  "range.24h": "24 小时",
  "state.normal": "正常",
  "state.unacknowledged": "未确认",
  "state.acknowledged": "已确认",
  "state.returned_unacknowledged": "已恢复未确认",
  "state.shelved": "已搁置",
  "state.suppressed": "已抑制",
  "state.out_of_service": "已停用",
  "priority.critical": "紧急",
  "priority.high": "高",
  "priority.medium": "中",
  "priority.low": "低",
  "condition.HH": "HH 高高",
  "condition.H": "H 高",
  "condition.L": "L 低",
  "condition.LL": "LL 低低",
  "condition.offline": "离线",
  "condition.frozen": "数据冻结",
  "condition.bad_quality": "质量坏",
  "condition.device_offline": "设备离线",
  "condition.degraded": "通信降级",
};

const dictionaries: Record<Locale, Record<MessageKey, string>> = { en, "zh-CN": zhCN };

const STORAGE_KEY = "hazwatch.locale";

function initialLocale(): Locale {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === "en" || saved === "zh-CN") return saved;
  return navigator.language.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

export const locale = ref<Locale>(initialLocale());

export function setLocale(next: Locale): void {
  locale.value = next;
  localStorage.setItem(STORAGE_KEY, next);
  document.documentElement.lang = next;
}

document.documentElement.lang = locale.value;

export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const text = dictionaries[locale.value][key];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** Local date and time of an instant as `YYYY-MM-DD HH:mm:ss`, the same in both languages. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `${date} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Local `MM-DD HH:mm:ss`: the year is implied in a list of current alarms. */
export function formatShortTime(ms: number): string {
  return formatTime(ms).slice(5);
}

/** Local time of day, `HH:mm` or `HH:mm:ss`. */
export function formatClock(ms: number, seconds: boolean): string {
  const d = new Date(ms);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return seconds ? `${hm}:${pad(d.getSeconds())}` : hm;
}
/** A configured figure (range end, limit) as written: no padding zeros. */
export function formatPlain(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(6))) : "—";
}

/** A reading with at most four significant decimals, no trailing noise. */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const abs = Math.abs(value);
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 1 ? 2 : 3;
  return value.toFixed(digits);
}
