// The Surplus board: wires the panels to the API and the live stream. Everything shown comes from
// the service: GET endpoints for state, /v1/stream for what changes. Each (re)connection of the
// stream refetches everything, so nothing missed while offline stays missing.

import { api } from './api.js';
import { Candles } from './candles.js';
import { useEcharts, charts } from './charts.js';
import { Depth } from './depth.js';
import { Epochs } from './epochs.js';
import { Stream } from './stream.js';
import { Tape } from './tape.js';
import { Ticker } from './ticker.js';
import { ProviderPanel } from './provider.js';
import { Ticket } from './ticket.js';
import { Timeline } from './timeline.js';
import { $, pad, Refresher } from './util.js';

const THEME = 'surplus.theme';
const saved = localStorage.getItem(THEME);
if (saved) document.documentElement.dataset.theme = saved;

const echarts = await import(document.querySelector('meta[name="surplus-echarts"]').content);
useEcharts(echarts);

const state = { selected: null, markets: [], connected: false, opens: 0 };

/** Times the book is asked for again while it is older than the stream's newest epoch. */
const BOOK_RETRIES = 20;
let bookRetries = 0;
const ticker = new Ticker($('#ticker'), (m) => select(m));
const candles = new Candles();
const depth = new Depth();
const tape = new Tape();
const timeline = new Timeline();
const epochs = new Epochs();
const ticket = new Ticket({
  onKey: (key) => stream.useKey(key),
  onMine: (bids) => depth.setMine(bids.filter((b) => b.gpuModel === state.selected).map((b) => b.limitPrice)),
});

// Each refresher fetches one thing; stream messages and user actions request them.
const refresh = {
  markets: new Refresher(async () => {
    const r = await api.markets();
    const first = !state.markets.length;
    state.markets = r.markets;
    if (first) refresh.day.request();
    ticker.setMarkets(r.markets);
    ticket.setMarkets(r.markets);
    if (!state.selected) {
      const wanted = decodeURIComponent(location.hash.slice(1));
      select(r.markets.some((m) => m.gpuModel === wanted) ? wanted : r.markets[0]?.gpuModel);
    }
  }, 1500),
  day: new Refresher(async () => {
    const to = new Date(Date.now() + 3600e3);
    const from = new Date(Date.now() - 24 * 3600e3);
    from.setUTCMinutes(0, 0, 0);
    await Promise.all(
      state.markets.map((m) => api.candles(m.gpuModel, '1h', from, to).then((r) => ticker.setDay(m.gpuModel, r.candles))),
    );
  }, 4000),
  book: new Refresher(async () => {
    const model = state.selected;
    if (!model) return;
    await depth.load(model);
    // the stream's epoch and the book's view travel apart: a book read on an epoch's message can
    // still be the epoch before, and an idle market sends no next message, so ask again (bounded)
    const behind = depth.book && depth.book.epoch < epochs.newest(model);
    bookRetries = behind && bookRetries < BOOK_RETRIES ? bookRetries + 1 : 0;
    if (bookRetries > 0) refresh.book.request(250);
  }, 800),
  candles: new Refresher(() => state.selected && candles.load(state.selected), 2000),
  tape: new Refresher(() => state.selected && tape.load(state.selected), 1000),
  timeline: new Refresher(async () => {
    if (!state.selected) return;
    await timeline.load(state.selected);
    ticket.setSlotSeconds(timeline.data.slotSeconds);
  }, 2500),
  ticket: ticket.refresher,
};

tape.onNewest = (model, epoch) => {
  // the tape shows this epoch's fills, so its record is (all but) written: ask a moment later
  setTimeout(() => epochs.loadRecord(model, epoch).catch((e) => console.warn(e.message)), 1000);
};
candles.onChange = () => refresh.candles.request();

function select(model) {
  if (!model || model === state.selected) return;
  state.selected = model;
  history.replaceState(null, '', `#${encodeURIComponent(model)}`);
  ticker.select(model);
  ticket.follow(model);
  epochs.select(model);
  for (const e of document.querySelectorAll('.market-name')) e.textContent = model;
  for (const k of ['book', 'candles', 'tape', 'timeline']) refresh[k].request();
}

function onMessage(msg) {
  if (msg.type === 'epoch') {
    ticker.onEpoch(msg);
    epochs.onEpoch(msg);
    refresh.markets.request();
    if (msg.gpuModel === state.selected) {
      refresh.book.request();
      refresh.timeline.request();
    }
    if (msg.leases > 0) {
      // the read side trails the epoch: ask now and again once it has caught up
      refresh.day.request(1500);
      if (msg.gpuModel === state.selected) {
        for (const r of [refresh.tape, refresh.candles]) {
          r.request(1200);
          r.request(3500);
        }
      }
    }
    if (ticket.bidder()) refresh.ticket.request();
  } else if (msg.type === 'revocation') {
    timeline.onRevocation(msg);
    if (msg.gpuModel === state.selected) {
      refresh.timeline.request();
      refresh.book.request();
    }
  } else if (msg.type === 'lease.notified') {
    ticket.onNotice(msg);
  }
}

function setConnection(s) {
  const c = $('#conn');
  c.dataset.state = s;
  c.querySelector('b').textContent = s;
  state.connected = s === 'live';
  for (const r of Object.values(refresh)) r.pause(!state.connected);
}

const stream = new Stream({
  onMessage,
  onState: setConnection,
  onOpen: (opens) => {
    state.opens = opens;
    document.body.dataset.opens = String(opens);
    for (const r of Object.values(refresh)) r.request();
  },
});

$('#theme').addEventListener('click', () => {
  const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  document.documentElement.dataset.theme = next;
  localStorage.setItem(THEME, next);
  for (const p of [candles, depth, timeline, epochs]) p.render();
});

setInterval(() => {
  const d = new Date();
  $('#clock').textContent = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}, 1000);

// A handle for debugging and for the browser tests: the charts and the stream's state.
window.surplusBoard = {
  charts,
  state,
  stream,
  echarts,
  panels: { ticker, candles, depth, tape, timeline, epochs, ticket },
};

ticket.start();
new ProviderPanel().start();
stream.start();
