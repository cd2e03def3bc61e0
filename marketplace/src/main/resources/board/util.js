// Small helpers shared by the panels: DOM building, time formatting, and a refresher that runs a
// fetch at most every so often, never two at once, and always once more after the last request.

export const $ = (sel, root = document) => root.querySelector(sel);

/** An element with attributes and children (strings become text, never HTML). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export function pad(n) {
  return String(n).padStart(2, '0');
}

/** 2026-11-23T10:15:02Z -> "10:15:02" (UTC). */
export function hms(iso) {
  const d = new Date(iso);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** -> "10:15" (UTC). */
export function hm(iso) {
  const d = new Date(iso);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** -> "Nov 23 10:15" (UTC). */
export function dayHm(iso) {
  const d = new Date(iso);
  const mon = d.toLocaleString('en', { month: 'short', timeZone: 'UTC' });
  return `${mon} ${d.getUTCDate()} ${hm(iso)}`;
}

/** A span of time as "1h 05m" or "12m" or "45s". */
export function span(ms) {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  return `${Math.floor(m / 60)}h ${pad(m % 60)}m`;
}

/** Seconds left as "mm:ss" or "h:mm:ss". */
export function countdown(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

/** ISO instant without milliseconds. */
export function iso(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Runs task() when requested, at most once every minGapMs, never while a run is in flight, and
 * once more after the last request; paused while the board is offline.
 */
export class Refresher {
  constructor(task, minGapMs) {
    this.task = task;
    this.minGapMs = minGapMs;
    this.last = 0;
    this.running = false;
    this.pending = false;
    this.timer = null;
    this.paused = false;
  }

  request(afterMs = 0) {
    if (afterMs > 0) {
      setTimeout(() => this.request(), afterMs);
      return;
    }
    this.pending = true;
    this.kick();
  }

  kick() {
    if (this.running || this.timer || this.paused || !this.pending) return;
    const wait = this.last + this.minGapMs - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.kick();
      }, wait);
      return;
    }
    this.pending = false;
    this.running = true;
    this.last = Date.now();
    Promise.resolve()
      .then(() => this.task())
      .catch((e) => console.warn('refresh failed:', e.message))
      .finally(() => {
        this.running = false;
        this.kick();
      });
  }

  pause(p) {
    this.paused = p;
    if (!p) this.kick();
  }
}
