// The bid ticket: a bidder pastes an API key (kept in this tab's session storage only), places and
// cancels bids, sees each open bid with the reason it has not filled, and its leases; a lease cut by
// a revocation shows a countdown to its preemption, from the private lease.notified notice on the
// stream (opened with a short-lived token that the key buys, never the key itself) or the lease's
// preemptAt.

import { api, ApiError } from './api.js';
import * as dec from './decimal.js';
import { $, countdown, el, hm, hms, iso, Refresher } from './util.js';

const STORE = 'surplus.bidderKey';
const REASONS_LOOKED_UP = 25;

/** Refreshes asked for a bid still listed open once its lease is there (see Ticket.settle). */
const SETTLE_TRIES = 5;

function newIdempotencyKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return `board-${[...b].map((x) => x.toString(16).padStart(2, '0')).join('')}`;
}

/** Seconds in an ISO-8601 duration of hours, minutes and seconds, as Java writes them (PT168H, PT0.3S). */
export function secondsOf(iso) {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(iso ?? '');
  return m ? +(m[1] ?? 0) * 3600 + +(m[2] ?? 0) * 60 + +(m[3] ?? 0) : NaN;
}

/** Seconds as "15 s", "15 min", "2 h 48 min", "7 d": the rules as a person reads them. */
export function spoken(seconds) {
  if (!(seconds >= 0)) return '?';
  if (seconds < 60) return `${seconds} s`;
  const parts = [];
  let rest = Math.round(seconds);
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['min', 60], ['s', 1]]) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  return parts.join(' ');
}

export class Ticket {
  constructor({ onKey, onMine }) {
    this.onKey = onKey;
    this.onMine = onMine;
    this.key = null;
    this.account = null;
    this.markets = new Map();
    this.slotSeconds = 900;
    this.bids = [];
    this.leases = [];
    this.notices = new Map();
    this.seenLeases = null;
    this.seenBids = null;
    this.settling = new Map();
    this.timesEdited = false;
    this.retry = null;
    this.quoteAsked = null;
    this.quotedAt = 0;
    this.refresher = new Refresher(() => this.refresh(), 1500);
    this.form = $('#bid-form');
    $('#key-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.useKey($('#ticket-key').value.trim());
    });
    $('#forget-key').addEventListener('click', () => this.forget());
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.place();
    });
    this.form.addEventListener('input', (e) => {
      if (e.target.name === 'earliestStart' || e.target.name === 'latestEnd') this.timesEdited = true;
      e.target.classList.remove('bad');
      this.preview();
    });
    setInterval(() => this.tick(), 1000);
    setInterval(() => this.defaultTimes(), 30000);
  }

  start() {
    this.defaultTimes();
    this.preview();
    const saved = sessionStorage.getItem(STORE);
    if (saved) {
      $('#ticket-key').value = saved;
      this.useKey(saved);
    } else {
      this.renderAccount();
    }
    this.renderBids();
    this.renderLeases();
  }

  setMarkets(list) {
    const select = $('#bid-market');
    for (const m of list) {
      if (!this.markets.has(m.gpuModel)) select.append(el('option', { value: m.gpuModel }, m.gpuModel));
      this.markets.set(m.gpuModel, m);
    }
    this.preview();
  }

  /** The chosen market's rules (GET /v1/markets), which the ticket follows rather than assumes. */
  rules() {
    return this.markets.get(this.form.gpuModel.value)?.rules;
  }

  follow(model) {
    $('#bid-market').value = model;
    this.preview();
  }

  setSlotSeconds(s) {
    if (s && s !== this.slotSeconds) {
      this.slotSeconds = s;
      this.defaultTimes();
    }
  }

  /** Earliest start at the next slot, latest end two hours on, until the user edits them. */
  defaultTimes() {
    if (this.timesEdited) return;
    const slot = this.slotSeconds * 1000;
    const start = Math.ceil((Date.now() + 1000) / slot) * slot;
    this.form.earliestStart.value = iso(new Date(start));
    this.form.latestEnd.value = iso(new Date(start + Math.ceil((2 * 3600e3) / slot) * slot));
  }

  preview() {
    const f = this.form;
    const m = this.markets.get(f.gpuModel.value);
    const r = m?.rules;
    if (r) {
      this.setSlotSeconds(r.slotSeconds);
      f.durationMinutes.max = r.maxDurationMinutes;
      f.nodes.max = r.maxNodesPerBid;
      $('#bid-rules').textContent =
        `${spoken(r.slotSeconds)} slots · up to ${spoken(secondsOf(r.horizon))} ahead · tick ${r.priceTick}` +
        ` · clears every ${spoken(secondsOf(r.epochInterval))}, ${r.pricingRule === 'PAY_AS_CLEAR' ? 'pay as clear' : 'pay as bid'}`;
    }
    const ok = m && dec.isDecimal(f.limitPrice.value) && +f.nodes.value > 0 && +f.durationMinutes.value > 0;
    const end = Date.parse(f.latestEnd.value);
    const beyond = r && end > Date.now() + secondsOf(r.horizon) * 1000;
    f.latestEnd.classList.toggle('bad', !!beyond);
    $('#bid-cost').textContent = beyond
      ? `latest end is beyond the horizon: at most ${spoken(secondsOf(r.horizon))} ahead`
      : ok
        ? `reserves ≈ $${dec.cost(f.limitPrice.value, Math.floor(+f.nodes.value), m.gpusPerNode, Math.floor(+f.durationMinutes.value))}`
        : '';
    $('#place-bid').disabled = !this.account || this.account.role !== 'bidder';
    this.requestQuote();
  }

  async useKey(key) {
    if (!key) return;
    try {
      const a = await api.account(key);
      this.key = key;
      this.account = a;
      sessionStorage.setItem(STORE, key);
      this.seenLeases = null;
      this.seenBids = null;
      this.settling.clear();
      this.log(`using ${a.role} key of account ${a.account}`);
      this.onKey(a.role === 'bidder' ? key : null);
      this.refresher.request();
    } catch (e) {
      this.account = null;
      this.key = null;
      this.onKey(null);
      this.log(e instanceof ApiError ? `key refused: ${e.message}` : `could not check the key: ${e.message}`);
    }
    this.renderAccount();
    this.preview();
  }

  forget() {
    sessionStorage.removeItem(STORE);
    $('#ticket-key').value = '';
    this.key = null;
    this.account = null;
    this.bids = [];
    this.leases = [];
    this.notices.clear();
    this.onKey(null);
    this.onMine([]);
    this.renderAccount();
    this.renderBids();
    this.renderLeases();
    this.preview();
  }

  renderAccount() {
    const a = this.account;
    $('#account-line').textContent = !a
      ? 'paste a bidder key'
      : a.role !== 'bidder'
        ? `a ${a.role} key: bids need a bidder key`
        : `account #${a.account} · available $${dec.round(a.available, 2)} · reserved $${dec.round(a.reserved, 2)} · leased $${dec.round(a.leased, 2)}`;
  }

  bidder() {
    return this.key && this.account?.role === 'bidder';
  }

  async refresh() {
    if (!this.bidder()) return;
    const key = this.key;
    const [account, open, leases] = await Promise.all([api.account(key), api.openBids(key), api.leases(key)]);
    if (key !== this.key) return;
    this.account = account;
    const withReasons = await Promise.all(
      open.bids.map((b, i) => (i < REASONS_LOOKED_UP ? api.bid(key, b.id).catch(() => b) : b)),
    );
    const still = withReasons.filter((b) => b.status === 'open' || b.status === 'pending');
    this.noteChanges(still, leases.leases);
    this.settle(still);
    this.bids = still;
    this.leases = leases.leases;
    this.onMine(this.bids);
    this.renderAccount();
    this.renderBids();
    this.renderLeases();
  }

  /**
   * A fill reaches the leases (the read side) and its bid's status (the bid's account) by two
   * paths, either first: a bid still listed open when its lease appears is asked about again, a
   * few times at most, until its account has it filled, so the ticket does not wait for the next
   * epoch (there may be none for a while) to drop it. {@link noteChanges} marks the bids of new
   * leases.
   */
  settle(bids) {
    const listed = new Set(bids.map((b) => b.id));
    let again = false;
    for (const [id, left] of this.settling) {
      if (left > 0 && listed.has(id)) {
        this.settling.set(id, left - 1);
        again = true;
      } else {
        this.settling.delete(id);
      }
    }
    if (again) this.refresher.request();
  }

  /** Logs new leases (fills), marking their bids to settle, and open bids that closed without one. */
  noteChanges(bids, leases) {
    const leaseIds = new Set(leases.map((l) => l.id));
    const bidIds = new Set(bids.map((b) => b.id));
    if (this.seenLeases) {
      for (const l of leases) {
        if (!this.seenLeases.has(l.id)) {
          this.settling.set(l.bidId, SETTLE_TRIES);
          this.log(`filled ${l.bidId} → ${l.id}: ${l.nodes} nodes @ ${dec.show(l.price)}, ${hm(l.start)}→${hm(l.end)}`);
        }
      }
      const filledBids = new Set(leases.map((l) => l.bidId));
      for (const id of this.seenBids) {
        if (!bidIds.has(id) && !filledBids.has(id)) this.log(`${id} closed`);
      }
    }
    this.seenLeases = leaseIds;
    this.seenBids = bidIds;
  }

  /** The bid the form describes, as the API takes it. */
  body() {
    const f = this.form;
    const body = {
      gpuModel: f.gpuModel.value,
      nodes: Math.floor(+f.nodes.value),
      durationMinutes: Math.floor(+f.durationMinutes.value),
      earliestStart: f.earliestStart.value.trim(),
      latestEnd: f.latestEnd.value.trim(),
      limitPrice: f.limitPrice.value.trim(),
      timeInForce: f.timeInForce.value,
    };
    if (f.minNodes.value) body.minNodes = Math.floor(+f.minNodes.value);
    if (f.requeue.checked) body.requeue = true;
    return body;
  }

  /**
   * A quote of the form's bid from the market (POST /v1/bids/preview: the engine's own next epoch
   * on a copy of the book, nothing placed), asked once typing pauses; a later answer replaces it.
   */
  requestQuote() {
    clearTimeout(this.quoteTimer);
    const out = $('#bid-quote');
    if (!this.key || this.account?.role !== 'bidder' || !this.markets.get(this.form.gpuModel.value)) {
      out.textContent = '';
      return;
    }
    // the same bid is quoted again only every few seconds (the book moves on), a changed one at once
    if (JSON.stringify(this.body()) === this.quoteAsked && Date.now() - this.quotedAt < 5000) return;
    this.quoteTimer = setTimeout(async () => {
      const body = this.body();
      const asked = JSON.stringify(body);
      this.quoteAsked = asked;
      this.quotedAt = Date.now();
      try {
        const q = await api.previewBid(this.key, body);
        if (this.quoteAsked !== asked) return;
        out.dataset.fills = String(q.wouldFill);
        out.textContent = q.wouldFill
          ? `quote: fills next epoch · ${q.nodes} nodes from ${hm(q.start)} at ${dec.show(q.price)}`
          : `quote: stays open (${(q.reason ?? '').toLowerCase().replaceAll('_', ' ')})` +
            (q.fillsAtLimit ? ` · fills now at ${dec.show(q.fillsAtLimit)}` : '') +
            (q.earliestStartAtLimit ? ` · at your limit from ${hm(q.earliestStartAtLimit)} if the end allows` : '');
      } catch (e) {
        if (this.quoteAsked !== asked) return;
        out.dataset.fills = '';
        out.textContent = e instanceof ApiError ? `quote: ${e.message}` : '';
      }
    }, 400);
  }

  async place() {
    const f = this.form;
    const body = this.body();
    const text = JSON.stringify(body);
    // the same body again after a failure is a retry: same key, so it cannot place twice
    const idem = this.retry?.text === text ? this.retry.key : newIdempotencyKey();
    const msg = $('#bid-msg');
    msg.className = 'form-msg';
    msg.textContent = 'placing…';
    $('#place-bid').disabled = true;
    try {
      const b = await api.placeBid(this.key, body, idem);
      this.retry = null;
      msg.className = 'form-msg ok';
      msg.textContent = `placed ${b.id} (${b.status}), reserved $${dec.round(b.reserved, 2)}`;
      this.log(`placed ${b.id}: ${b.nodes} × ${b.gpuModel} @ ${dec.show(b.limitPrice)} ${b.timeInForce}`);
      this.refresher.request();
    } catch (e) {
      if (!(e instanceof ApiError) || e.status >= 500) this.retry = { text, key: idem };
      msg.className = 'form-msg err';
      msg.textContent = e instanceof ApiError ? `${e.status}: ${e.message}` : `not sent: ${e.message}`;
      const field = e instanceof ApiError ? e.problem.field : null;
      if (field && f.elements[field]) f.elements[field].classList.add('bad');
    } finally {
      this.preview();
    }
  }

  async cancel(id) {
    try {
      await api.cancelBid(this.key, id);
      this.log(`cancelled ${id}`);
    } catch (e) {
      this.log(`cancel ${id} failed: ${e.message}`);
    }
    this.refresher.request();
  }

  /** A private lease.notified notice from the stream. */
  onNotice(n) {
    this.notices.set(n.leaseId, n);
    this.log(`⚠ ${n.leaseId} preempted at ${hms(n.preemptAt)} (${n.kind}${n.requeued ? ', bid requeued' : ''})`);
    this.renderLeases();
    this.refresher.request();
    this.refresher.request(2500);
  }

  renderBids() {
    const body = $('#open-bids tbody');
    body.replaceChildren(
      ...(this.bids.length
        ? this.bids.map((b) =>
            el(
              'tr',
              { dataset: { bid: b.id } },
              el('td', { title: `${b.gpuModel} ${b.earliestStart} → ${b.latestEnd}` }, b.id, el('br'), el('small', { class: 'flat' }, `${b.gpuModel} · ${b.durationMinutes}m`)),
              el('td', { class: 'num' }, `${b.nodes}`),
              el('td', { class: 'num up' }, dec.show(b.limitPrice)),
              el('td', { class: 'why' }, el('span', { class: 'reason' }, b.reason ? b.reason.toLowerCase().replaceAll('_', ' ') : b.status)),
              el('td', {}, el('button', { class: 'x', type: 'button', title: `cancel ${b.id}`, onclick: () => this.cancel(b.id) }, '✕')),
            ),
          )
        : [el('tr', { class: 'empty' }, el('td', { colspan: 5 }, this.bidder() ? 'no open bids' : '—'))]),
    );
  }

  renderLeases() {
    const body = $('#leases tbody');
    body.replaceChildren(
      ...(this.leases.length
        ? this.leases.flatMap((l) => {
            const notice = this.notices.get(l.id);
            const preemptAt = l.preemptAt || notice?.preemptAt || null;
            let status = l.status;
            if (preemptAt && (status === 'scheduled' || status === 'running')) status = 'notified';
            const row = el(
              'tr',
              { dataset: { lease: l.id, status } },
              el('td', { title: l.id }, l.id.replace(`lease_${l.gpuModel}_`, `${l.gpuModel.split('-')[0]} #`)),
              el('td', { class: 'num' }, `${l.nodes}`),
              el('td', { class: 'num' }, dec.show(l.price)),
              el('td', { class: 'flat' }, `${hm(l.start)}→${hm(l.end)}`),
              el('td', {}, el('span', { class: `badge ${status}` }, status)),
            );
            if (!preemptAt || Date.parse(preemptAt) <= Date.now()) return [row];
            const kind = l.preemptKind || notice?.kind || '';
            // the countdown gets a line of its own under its lease
            return [
              row,
              el(
                'tr',
                { class: 'notice-row', dataset: { for: l.id } },
                el(
                  'td',
                  { colspan: 5 },
                  el('span', { class: 'countdown mono', dataset: { deadline: preemptAt }, title: `preempted at ${preemptAt}` }, `preempt in ${countdown(Date.parse(preemptAt) - Date.now())}`),
                  el('span', { class: 'flat' }, ` ${kind} · at ${hms(preemptAt)}${notice?.requeued ? ' · bid requeued' : ''}`),
                ),
              ),
            ];
          })
        : [el('tr', { class: 'empty' }, el('td', { colspan: 5 }, this.bidder() ? 'no leases yet' : '—'))]),
    );
  }

  tick() {
    for (const c of document.querySelectorAll('[data-deadline]')) {
      const left = Date.parse(c.dataset.deadline) - Date.now();
      c.textContent = `preempt in ${countdown(left)}`;
      c.classList.toggle('urgent', left < 60000);
      if (left <= 0) this.refresher.request();
    }
  }

  log(text) {
    const list = $('#activity');
    list.prepend(el('li', {}, el('span', { class: 't' }, hms(new Date().toISOString())), text));
    while (list.children.length > 50) list.lastChild.remove();
  }
}
