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
 * then `onclose` reports the end and the page explains it.
 */

export const PROTOCOL_VERSION = 1;

/** Close codes after which reconnecting cannot help (see docs/signaling.md). */
export const FINAL_CLOSE_CODES = new Set([
  4401, 4403, 4404, 4409, 4410, 4411, 4412, 4413, 4414, 4415, 4426,
]);

/** Pauses before reconnect attempts, in milliseconds; the last one repeats. */
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];
const HANDSHAKE_TIMEOUT_MS = 10000;
const DEFAULT_PING_SECONDS = 10;
/** Close code this client uses for a connection that went silent. */
const SILENT = 4000;

/**
 * @typedef {'connecting'|'open'|'reconnecting'|'closed'} ConnectionStatus
 * @typedef {'cancelled'|'ended'|'consent_withdrawn'|'consent_declined'|'consent_needed'|'before_window'|'window_open'} JourneyState
 *
 * @typedef {object} WaitingMessageText
 * @property {string} text shown as text, never as HTML
 * @property {string} at ISO 8601 time the advisor sent it
 *
 * @typedef {object} CitizenHello
 * @property {'hello'} type
 * @property {number} version
 * @property {'citizen'} [role]
 *
 * @typedef {object} StaffHello
 * @property {'hello'} type
 * @property {number} version
 * @property {'staff'} [role]
 * @property {string[]} [watch] the appointments the page shows
 * @property {'agenda'|'appointment'} [view]
 *
 * @typedef {CitizenHello|StaffHello} HelloMessage
 *
 * @typedef {object} CitizenWelcome
 * @property {'welcome'} type
 * @property {number} version
 * @property {'citizen'} role
 * @property {number} ping_interval seconds
 * @property {string} waiting_since
 * @property {WaitingMessageText|null} message
 *
 * @typedef {object} StaffWelcome
 * @property {'welcome'} type
 * @property {number} version
 * @property {'staff'} role
 * @property {number} ping_interval seconds
 * @property {string[]} watching the appointments the server will report on
 *
 * @typedef {object} PongMessage
 * @property {'pong'} type
 * @property {number|null} id
 *
 * @typedef {object} AdvisorMessage
 * @property {'message'} type
 * @property {WaitingMessageText|null} message null: the advisor removed it
 *
 * @typedef {object} StateMessage
 * @property {'state'} type
 * @property {JourneyState} state
 *
 * @typedef {object} ReplacedMessage
 * @property {'replaced'} type
 *
 * @typedef {object} ErrorMessage
 * @property {'error'} type
 * @property {string} code
 * @property {string} message
 * @property {string|null} ref
 *
 * @typedef {object} ParticipantMessage
 * @property {'participant'} type
 * @property {string} appointment_id
 * @property {string} participant_id
 * @property {string} html the row, rendered by the server; empty: remove the row
 * @property {string|null} waiting_since
 * @property {boolean} entered
 * @property {string|null} notice
 *
 * @typedef {CitizenWelcome|StaffWelcome|PongMessage|AdvisorMessage|StateMessage|ReplacedMessage|ErrorMessage|ParticipantMessage} ServerMessage
 */

export class ServerConnection {
  /** @type {((status: ConnectionStatus) => void) | null} the connection status changed */
  onstatus = null;
  /** @type {((welcome: CitizenWelcome|StaffWelcome) => void) | null} a handshake completed (again) */
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
        this.#scheduleRetry();
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
        this.#pingMs = (message.ping_interval || DEFAULT_PING_SECONDS) * 1000;
        this.#startPings();
        this.#setStatus('open');
        this.onwelcome?.(message);
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
        this.onerror?.(message);
        break;
      case 'pong':
        break;
    }
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

  #scheduleRetry() {
    const pause = BACKOFF_MS[Math.min(this.#attempt, BACKOFF_MS.length - 1)];
    this.#attempt += 1;
    this.#setStatus('reconnecting');
    this.#retryTimer = setTimeout(() => this.#open(), pause * (0.8 + Math.random() * 0.4));
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
 * The WebSocket address of a path on this site (ws: or wss: like the page).
 * @param {string} path
 * @returns {string}
 */
export function socketUrl(path) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${path}`;
}
