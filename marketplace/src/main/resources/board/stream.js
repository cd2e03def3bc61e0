// The live stream (/v1/stream, with ?token= for a bidder's own lease notices). The key never goes
// into the stream's URL: before every open, first or again, the key buys a fresh short-lived token
// (POST /v1/stream/tokens, the key in the Authorization header), so a reconnect after the token
// has expired just works. Reconnects by itself with exponential back-off and jitter (0.5 s doubling
// to 10 s) whenever the socket closes or a token cannot be had, and closes a socket that has been
// silent past the heartbeat (the service sends one every 15 s), so a half-open connection is
// noticed too. Every open, first or again, calls onOpen so the board can refetch what it missed.

import { api, ApiError } from './api.js';

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10000;
const SILENCE_MS = 40000;

export class Stream {
  constructor({ onMessage, onOpen, onState }) {
    this.onMessage = onMessage;
    this.onOpen = onOpen;
    this.onState = onState;
    this.key = null;
    this.ws = null;
    this.attempts = 0;
    this.opens = 0;
    this.timer = null;
    this.watchdog = null;
    this.started = false;
    // bumped by every drop, so a token that arrives for an abandoned connect is not used
    this.generation = 0;
  }

  url(token) {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = token ? `?token=${encodeURIComponent(token)}` : '';
    return `${proto}//${location.host}/v1/stream${q}`;
  }

  start() {
    if (this.started) return;
    this.started = true;
    this.connect();
  }

  /** Reconnects at once with another key (or none). */
  useKey(key) {
    if (key === this.key) return;
    this.key = key;
    if (!this.started) return;
    this.drop();
    this.attempts = 0;
    this.connect();
  }

  drop() {
    this.generation++;
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.onmessage = null;
      this.ws.onopen = null;
      this.ws.onerror = null;
      try {
        this.ws.close();
      } catch {
        /* already closed */
      }
      this.ws = null;
    }
  }

  /** A fresh token for the current key, null for the public stream; throws to retry later. */
  async token() {
    if (!this.key) return null;
    try {
      return (await api.streamToken(this.key)).token;
    } catch (e) {
      // a key refused for good (401, 403) still gets the public stream; anything else is retried
      if (e instanceof ApiError && e.status >= 400 && e.status < 500) return null;
      throw e;
    }
  }

  async connect() {
    this.onState(this.opens === 0 && this.attempts === 0 ? 'connecting' : 'reconnecting');
    const generation = this.generation;
    let token;
    try {
      token = await this.token();
    } catch {
      if (generation === this.generation) this.retry();
      return;
    }
    if (generation !== this.generation) return;
    const ws = new WebSocket(this.url(token));
    this.ws = ws;
    ws.onopen = () => {
      this.attempts = 0;
      this.opens++;
      this.onState('live');
      this.arm();
      this.onOpen(this.opens);
    };
    ws.onmessage = (e) => {
      this.arm();
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      if (msg.type !== 'heartbeat') this.onMessage(msg);
    };
    ws.onerror = () => {
      /* onclose follows and schedules the retry */
    };
    ws.onclose = () => {
      clearTimeout(this.watchdog);
      if (this.ws !== ws) return;
      this.ws = null;
      this.retry();
    };
  }

  retry() {
    this.onState('reconnecting');
    const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.attempts);
    this.attempts++;
    this.timer = setTimeout(() => this.connect(), delay * (0.8 + Math.random() * 0.4));
  }

  arm() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.ws && this.ws.close(), SILENCE_MS);
  }
}
