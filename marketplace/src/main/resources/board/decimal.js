// Exact arithmetic on the API's decimal strings (USD, GPU-hours: at most 6 decimals), in BigInt
// millionths. Money is never a float here; Number() is used only for chart coordinates.

const SCALE = 6;
const ONE = 10n ** BigInt(SCALE);
const PATTERN = /^(-?)(\d+)(?:\.(\d{1,6}))?$/;

/** "1.5" -> 1500000n; null or undefined -> null. Throws on anything else. */
export function micros(text) {
  if (text === null || text === undefined) return null;
  const m = PATTERN.exec(String(text).trim());
  if (!m) throw new Error(`not a decimal with at most ${SCALE} places: ${text}`);
  const v = BigInt(m[2]) * ONE + BigInt((m[3] || '').padEnd(SCALE, '0'));
  return m[1] ? -v : v;
}

/** True when the text is a decimal this module reads. */
export function isDecimal(text) {
  return text !== null && text !== undefined && PATTERN.test(String(text).trim());
}

/** 1500000n -> "1.50" (at least minPlaces decimals, at most 6); grouped: "1,234.50". */
export function format(v, minPlaces = 2, grouped = true) {
  if (v === null || v === undefined) return null;
  const neg = v < 0n;
  const a = neg ? -v : v;
  let frac = (a % ONE).toString().padStart(SCALE, '0');
  while (frac.length > minPlaces && frac.endsWith('0')) frac = frac.slice(0, -1);
  const digits = (a / ONE).toString();
  const whole = grouped ? groupThousands(digits) : digits;
  return (neg ? '-' : '') + whole + (frac.length ? '.' + frac : '');
}

/** An integer count with thousands separators. */
export function count(n) {
  return groupThousands(String(n));
}

function groupThousands(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A decimal string shown with at least minPlaces decimals: "2.4" -> "2.40". */
export function show(text, minPlaces = 2) {
  return text === null || text === undefined ? '—' : format(micros(text), minPlaces);
}

/** A decimal string rounded half up to `places` decimals, for display: "4.266666" -> "4.27". */
export function round(text, places = 2) {
  if (text === null || text === undefined) return '—';
  const v = micros(text);
  const unit = 10n ** BigInt(SCALE - places);
  const a = v < 0n ? -v : v;
  const r = ((a + unit / 2n) / unit) * unit;
  return format(v < 0n ? -r : r, places);
}

/** Sum of decimal strings, as a decimal string the API would write ("1234.5", no grouping). */
export function sum(texts) {
  let t = 0n;
  for (const x of texts) t += micros(x) ?? 0n;
  return format(t, 0, false);
}

/** a - b as a decimal string with a sign. */
export function diff(a, b, minPlaces = 2) {
  const d = micros(a) - micros(b);
  return (d > 0n ? '+' : '') + format(d, minPlaces);
}

/** Sign of a - b: -1, 0 or 1. */
export function compare(a, b) {
  const d = micros(a) - micros(b);
  return d > 0n ? 1 : d < 0n ? -1 : 0;
}

/** (to - from) / from as a percentage with two decimals and a sign, exact (half away from zero). */
export function percent(from, to) {
  const f = micros(from);
  if (!f) return null;
  const num = (micros(to) - f) * 10000n; // hundredths of a percent, times f
  const af = f < 0n ? -f : f;
  let q = num / f;
  const r = num % f;
  if ((r < 0n ? -r : r) * 2n >= af) q += (num < 0n) !== (f < 0n) ? -1n : 1n;
  const neg = q < 0n;
  const a = neg ? -q : q;
  const text = `${a / 100n}.${(a % 100n).toString().padStart(2, '0')}%`;
  return (neg ? '-' : q > 0n ? '+' : '') + text;
}

/**
 * limit x nodes x gpusPerNode x minutes / 60, rounded down to the cent's millionth: the most a bid
 * can cost before its duration rounds up to whole slots.
 */
export function cost(limit, nodes, gpusPerNode, minutes) {
  const v = (micros(limit) * BigInt(nodes) * BigInt(gpusPerNode) * BigInt(minutes)) / 60n;
  return format(v, 2);
}

/** For chart coordinates only. */
export function toNumber(text) {
  return text === null || text === undefined ? null : Number(text);
}
