// @ts-check
/**
 * The signaling connection: one WebSocket speaking the protocol of
 * docs/signaling.md. UI-free, like Galène's protocol.js: it never touches the
 * DOM; pages set the documented `on…` callbacks and call the methods.
 *
 * On every (re)connect it sends the `hello` it was given (the versioned
 * handshake) and waits for `welcome`. After that it pings every
 * `ping_interval` seconds (the server's number from `welcome`); when nothing
 * at all arrives for 2.5 intervals the connection is taken as dead and
 * replaced. A connection that drops reconnects with growing pauses (1 s up to
 * 30 s, jittered so a restarted server is not hit by everybody at once) —
 * except after a close code that says reconnecting cannot help (the link is
 * no longer valid, the appointment is over, another window took over …):
 * then `onclose` reports the end and the page explains it. A server that
 * cannot serve the connection right now (its database or Redis is down) says
 * `error` `unavailable` and closes ("try again later"): the connection reconnects as
 * after any interruption, and `unavailable` stays true until a `welcome`
 * arrives again, so the page can say why it waits.
 *
 * The call (docs/signaling.md, "The call") rides on the same connection:
 * `send(type, fields)` sends any client message, `on(type, handler)` hears any
 * server message by its type, fully typed by `ClientMessageMap` and
 * `ServerMessageMap` (messages.js). The `on…` callbacks above stay for the
 * waiting room. The protocol version and the close codes come from
 * constants.js, generated from the server's definitions.
 */

import { ERROR_CODES, FINAL_CLOSE_CODES } from './constants.js';

/** Pauses before reconnect attempts, in milliseconds; the last one repeats. */
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];
const HANDSHAKE_TIMEOUT_MS = 10000;
const DEFAULT_PING_SECONDS = 10;
/** Close code this client uses for a connection that went silent. */
const SILENT = 4000;
/** Close code of a server that stops on purpose (a deploy): reconnect at once, to another
 * instance, spread over this many milliseconds so they do not all arrive together. */
const SERVICE_RESTART = 1012;
const RESTART_SPREAD_MS = 1500;

/**
 * @typedef {'connecting'|'open'|'reconnecting'|'closed'} ConnectionStatus
 *
 * @typedef {import('./messages.js').HelloMessage} HelloMessage
 * @typedef {import('./messages.js').ServerMessage} ServerMessage
 * @typedef {import('./messages.js').ServerMessageMap} ServerMessageMap
 * @typedef {import('./messages.js').ClientMessageMap} ClientMessageMap
 * @typedef {import('./messages.js').CitizenWelcome} CitizenWelcome
 * @typedef {import('./messages.js').StaffWelcome} StaffWelcome
 * @typedef {import('./messages.js').AdvisorMessage} AdvisorMessage
 * @typedef {import('./messages.js').StateMessage} StateMessage
 * @typedef {import('./messages.js').ParticipantMessage} ParticipantMessage
 * @typedef {import('./messages.js').ErrorMessage} ErrorMessage
 */

export class ServerConnection {
  /** @type {((status: ConnectionStatus) => void) | null} the connection status changed */
  onstatus = null;
  /** @type {((welcome: CitizenWelcome|StaffWelcome) => void) | null} a handshake completed (again); the call socket's welcome comes through on('welcome') */
  onwelcome = null;
  /** @type {((message: AdvisorMessage) => void) | null} the advisor's message changed */
  onadvisormessage = null;
  /** @type {((message: StateMessage) => void) | null} the journey left the waiting room; the close follows */
  onstate = null;
  /** @type {(() => void) | null} the same link connected elsewhere; the close follows */
  onreplaced = null;
  /** @type {((message: ParticipantMessage) => void) | null} a participant's row changed */
  onparticipant = null;
  /** @type {((message: ErrorMessage) => void) | null} the server refused a message */
  onerror = null;
  /** @type {((code: number, reason: string) => void) | null} closed for good; no reconnect follows */
  onclose = null;

  /** @type {ConnectionStatus} */
  status = 'closed';
  /** The server turned the connection away for now (`turnedAway`); false again at the next
   * `welcome`. `onstatus` is called again when it turns true. */
  unavailable = false;

  /** @type {Map<string, Set<(message: any) => void>>} */
  #handlers = new Map();

  /** @type {WebSocket | null} */
  #socket = null;
  #attempt = 0;
  #pingId = 0;
  #pingMs = DEFAULT_PING_SECONDS * 1000;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #retryTimer;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  #pingTimer;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #silenceTimer;
  #stopped = true;

  /**
   * @param {string} url ws:// or wss:// address of the endpoint
   * @param {HelloMessage} hello sent first on every connection
   */
  constructor(url, hello) {
    this.url = url;
    this.hello = hello;
  }

  /** Open the connection (again, after a final close). */
  connect() {
    this.#stopped = false;
    this.#attempt = 0;
    this.#open();
  }

  /** Close for good, without reconnecting. */
  close() {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#socket?.close(1000);
    this.#finish(1000, 'closed by the page');
  }

  /**
   * Hear every server message of one type (after the `on…` callback, if any).
   * @template {keyof ServerMessageMap} K
   * @param {K} type
   * @param {(message: ServerMessageMap[K]) => void} handler
   * @returns {() => void} call it to stop hearing
   */
  on(type, handler) {
    let handlers = this.#handlers.get(type);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(type, handlers);
    }
    handlers.add(handler);
    return () => handlers.delete(handler);
  }

  /**
   * Send a client message now. `type` comes first in the frame, as the server
   * needs for signal frames larger than any other message (docs/signaling.md,
   * "The call").
   * @template {keyof ClientMessageMap} K
   * @param {K} type
   * @param {ClientMessageMap[K]} fields
   * @returns {boolean} false when the connection is not open (nothing is queued)
   */
  send(type, fields) {
    if (this.status !== 'open' || this.#socket?.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(JSON.stringify({ type, ...fields }));
    return true;
  }

  /** Try at once instead of waiting out the pause (the network came back). */
  reconnectNow() {
    if (this.status === 'reconnecting') {
      clearTimeout(this.#retryTimer);
      this.#open();
    }
  }

  #open() {
    this.#setStatus(this.#attempt === 0 ? 'connecting' : 'reconnecting');
    const socket = new WebSocket(this.url);
    this.#socket = socket;
    socket.onopen = () => {
      this.#send(this.hello);
      this.#expectWithin(HANDSHAKE_TIMEOUT_MS);
    };
    socket.onmessage = (event) => {
      if (socket !== this.#socket) return;
      this.#expectWithin(this.#pingMs * 2.5);
      if (typeof event.data === 'string') this.#dispatch(event.data);
    };
    socket.onclose = (event) => {
      if (socket !== this.#socket) return;
      this.#socket = null;
      this.#stopTimers();
      if (this.#stopped) return;
      if (FINAL_CLOSE_CODES.has(event.code)) {
        this.#stopped = true;
        this.#finish(event.code, event.reason);
      } else {
        this.#scheduleRetry(event.code === SERVICE_RESTART);
      }
    };
  }

  /** @param {string} data */
  #dispatch(data) {
    /** @type {ServerMessage} */
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    switch (message.type) {
      case 'welcome':
        this.#attempt = 0;
        this.unavailable = false;
        this.#pingMs = (message.ping_interval || DEFAULT_PING_SECONDS) * 1000;
        this.#startPings();
        this.#setStatus('open');
        if (message.role !== 'advisor' && message.role !== 'support') this.onwelcome?.(message);
        break;
      case 'message':
        this.onadvisormessage?.(message);
        break;
      case 'state':
        this.onstate?.(message);
        break;
      case 'replaced':
        this.onreplaced?.();
        break;
      case 'participant':
        this.onparticipant?.(message);
        break;
      case 'error':
        if (turnedAway(message) && !this.unavailable) {
          this.unavailable = true;
          this.onstatus?.(this.status);
        }
        this.onerror?.(message);
        break;
      case 'pong':
        break;
    }
    for (const handler of this.#handlers.get(message.type) ?? []) handler(message);
  }

  /** @param {HelloMessage | {type: 'ping', id: number}} message */
  #send(message) {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(message));
  }

  #startPings() {
    clearInterval(this.#pingTimer);
    this.#pingTimer = setInterval(() => {
      this.#pingId += 1;
      this.#send({ type: 'ping', id: this.#pingId });
    }, this.#pingMs);
  }

  /** Take the connection as dead when nothing arrives within `ms`. @param {number} ms */
  #expectWithin(ms) {
    clearTimeout(this.#silenceTimer);
    this.#silenceTimer = setTimeout(() => this.#socket?.close(SILENT, 'silent'), ms);
  }

  #stopTimers() {
    clearInterval(this.#pingTimer);
    clearTimeout(this.#silenceTimer);
  }

  /** @param {boolean} [moved] the server stopped on purpose: another one is ready now */
  #scheduleRetry(moved = false) {
    const pause = BACKOFF_MS[Math.min(this.#attempt, BACKOFF_MS.length - 1)];
    this.#attempt += 1;
    this.#setStatus('reconnecting');
    const wait = moved ? 100 + Math.random() * RESTART_SPREAD_MS : pause * (0.8 + Math.random() * 0.4);
    this.#retryTimer = setTimeout(() => this.#open(), wait);
  }

  /** @param {number} code @param {string} reason */
  #finish(code, reason) {
    this.#stopTimers();
    if (this.status === 'closed') return;
    this.#setStatus('closed');
    this.onclose?.(code, reason);
  }

  /** @param {ConnectionStatus} status */
  #setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.onstatus?.(status);
  }
}

/**
 * Whether an `error` says that the server cannot take this connection right now: its
 * `hello` (or, with no `ref`, the connection itself, closed right after) met
 * a database or Redis that cannot be reached. The connection reconnects by itself.
 * An `unavailable` for any other message refused only that message.
 * @param {ErrorMessage} error
 * @returns {boolean}
 */
export function turnedAway(error) {
  return error.code === ERROR_CODES.UNAVAILABLE && (error.ref === null || error.ref === 'hello');
}

/**
 * The WebSocket address of a path on this site (ws: or wss: like the page).
 * @param {string} path
 * @returns {string}
 */
export function socketUrl(path) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${path}`;
}
