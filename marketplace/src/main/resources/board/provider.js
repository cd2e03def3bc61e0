// The provider panel: a capacity owner pastes its provider key (kept in this tab's session storage
// only, as the ticket keeps a bidder's) and reads its statement (GET /v1/provider/statement): per
// pool over the chosen UTC days, node-hours offered, revoked, sold and idle, sell-through, revenue,
// average price against reserve and refunds for lost notice, then the same per day.

import { api, ApiError } from './api.js';
import { $, el, pad } from './util.js';

const STORE = 'surplus.providerKey';

/** A UTC day as YYYY-MM-DD, {@code days} after today. */
export function utcDay(days, now = Date.now()) {
  const d = new Date(now + days * 86400e3);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** "0.4000" -> "40.0%". */
export function percent(fraction) {
  const f = Number(fraction);
  return Number.isFinite(f) ? `${(f * 100).toFixed(1)}%` : '—';
}

export class ProviderPanel {
  constructor() {
    this.key = null;
    this.form = $('#statement-form');
    $('#provider-key-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.useKey($('#provider-key').value.trim());
    });
    $('#provider-forget').addEventListener('click', () => this.forget());
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.load();
    });
  }

  start() {
    this.form.from.value = utcDay(-6);
    this.form.to.value = utcDay(1);
    const saved = sessionStorage.getItem(STORE);
    if (saved) {
      $('#provider-key').value = saved;
      this.useKey(saved);
    }
  }

  useKey(key) {
    if (!key) return;
    this.key = key;
    sessionStorage.setItem(STORE, key);
    this.load();
  }

  forget() {
    this.key = null;
    sessionStorage.removeItem(STORE);
    $('#provider-key').value = '';
    $('#statement-totals tbody').replaceChildren();
    $('#statement-days tbody').replaceChildren();
    this.say('', '');
  }

  say(text, kind) {
    const m = $('#statement-msg');
    m.textContent = text;
    m.className = `form-msg ${kind}`;
  }

  async load() {
    if (!this.key) {
      this.say('paste a provider key first', 'err');
      return;
    }
    const f = this.form;
    try {
      const st = await api.statement(this.key, f.from.value.trim(), f.to.value.trim(), f.pool.value.trim());
      this.render(st);
      this.say(`${st.from} to ${st.to} (exclusive, UTC)`, 'ok');
    } catch (e) {
      if (e instanceof ApiError) {
        const field = e.problem.field;
        if (field && f[field]) f[field].classList.add('bad');
        this.say(e.status === 403 ? 'this key is not a provider key' : e.message, 'err');
      } else {
        this.say(String(e), 'err');
      }
    }
  }

  render(st) {
    for (const input of this.form.querySelectorAll('input')) input.classList.remove('bad');
    const row = (l, first) =>
      el(
        'tr',
        {},
        el('td', {}, first),
        el('td', { class: 'num' }, l.offeredNodeHours),
        el('td', { class: 'num' }, l.soldNodeHours),
        el('td', { class: 'num' }, l.idleNodeHours),
        el('td', { class: 'num' }, l.revokedNodeHours),
        el('td', { class: 'num' }, percent(l.sellThrough)),
        el('td', { class: 'num' }, l.revenue),
        el('td', { class: 'num' }, `${l.averagePrice ?? '—'} / ${l.averageReserve ?? '—'}`),
        el('td', { class: 'num' }, l.refunds),
      );
    $('#statement-totals tbody').replaceChildren(
      ...(st.totals.length
        ? st.totals.map((l) => row(l, `${l.pool} · ${l.market}`))
        : [el('tr', {}, el('td', { colspan: 9, class: 'hint' }, 'nothing offered in these days'))]),
    );
    $('#statement-days tbody').replaceChildren(...st.days.map((l) => row(l, `${l.day.slice(5)} ${l.pool}`)));
  }
}
