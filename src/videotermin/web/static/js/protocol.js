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
 *
 * The call (docs/signaling.md, "The call") rides on the same connection:
 * `send(type, fields)` sends any client message, `on(type, handler)` hears any
 * server message by its type, fully typed by `ClientMessageMap` and
 * `ServerMessageMap`. The `on…` callbacks above stay for the waiting room.
 */

export const PROTOCOL_VERSION = 1;

/** Close codes after which reconnecting cannot help (see docs/signaling.md). */
export const FINAL_CLOSE_CODES = new Set([
  4401, 4403, 4404, 4409, 4410, 4411, 4412, 4413, 4414, 4415, 4417, 4418, 4426,
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
 * @typedef {object} CallHello the advisor's hello on /ws/call/<appointment id>
 * @property {'hello'} type
 * @property {number} version
 * @property {'advisor'} [role]
 *
 * @typedef {CitizenHello|StaffHello|CallHello} HelloMessage
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
 * @typedef {object} CallWelcome the advisor's call socket; `admitted` and `waiting` follow
 * @property {'welcome'} type
 * @property {number} version
 * @property {'advisor'} role
 * @property {number} ping_interval seconds
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
 * --- the call ---
 *
 * @typedef {object} SessionDescriptionInit as RTCSessionDescription.toJSON() gives it
 * @property {'offer'|'answer'} type
 * @property {string} sdp
 *
 * @typedef {object} IceCandidateInit as RTCIceCandidate.toJSON() gives it
 * @property {string} candidate
 * @property {string|null} [sdpMid]
 * @property {number|null} [sdpMLineIndex]
 * @property {string|null} [usernameFragment]
 *
 * @typedef {object} IceServer one entry of RTCConfiguration.iceServers
 * @property {string[]} urls
 * @property {string|null} username TURN only (short-lived REST credential)
 * @property {string|null} credential TURN only
 *
 * @typedef {object} Peer someone in the call
 * @property {string} id opaque, stable for this person for the whole call
 * @property {string} name plain text: show it as text, never as HTML
 * @property {string} role 'advisor', 'citizen', 'interpreter', …
 * @property {boolean} audio microphone on
 * @property {boolean} video camera on
 * @property {boolean} screen sharing the screen
 * @property {'connected'|'reconnecting'} connection
 *
 * @typedef {object} AdmittedMessage you are in the call
 * @property {'admitted'} type
 * @property {string} self your own peer id
 * @property {IceServer[]} ice_servers made at this moment; use them for every peer connection
 * @property {'all'|'relay'} ice_transport_policy pass as RTCConfiguration.iceTransportPolicy
 * @property {Peer[]} peers everyone else in the call
 * @property {number} max_participants mesh limit, including the advisor
 *
 * @typedef {object} PeerJoinedMessage someone joined, or rejoined after a drop: (re)create that pair
 * @property {'peer_joined'} type
 * @property {Peer} peer
 *
 * @typedef {object} PeerUpdatedMessage media or connection state changed
 * @property {'peer_updated'} type
 * @property {Peer} peer
 *
 * @typedef {object} PeerLeftMessage
 * @property {'peer_left'} type
 * @property {string} id
 * @property {'left'|'removed'} reason
 *
 * @typedef {object} SignalFromMessage negotiation from a peer; `from` is set by the server
 * @property {'signal'} type
 * @property {string} from
 * @property {SessionDescriptionInit|null} description
 * @property {IceCandidateInit|null} candidate used when description is null; null: end of candidates
 *
 * @typedef {object} ChatFromMessage a chat line (your own ones come back too)
 * @property {'chat'} type
 * @property {string} from peer id
 * @property {string} name plain text
 * @property {string} role
 * @property {string} text plain text
 * @property {string} at ISO 8601
 *
 * @typedef {object} RemovedMessage the advisor removed you; close 4417 follows
 * @property {'removed'} type
 *
 * @typedef {object} WaitingPerson
 * @property {string} id participant id (what `admit` takes)
 * @property {string} name plain text
 * @property {string} role
 * @property {string} since ISO 8601
 * @property {'green'|'yellow'|'red'|null} verdict latest device check
 *
 * @typedef {object} WaitingMessage advisor's call socket: who waits, whenever that changes
 * @property {'waiting'} type
 * @property {WaitingPerson[]} participants
 *
 * @typedef {CitizenWelcome|StaffWelcome|CallWelcome|PongMessage|AdvisorMessage|StateMessage|ReplacedMessage|ErrorMessage|ParticipantMessage|AdmittedMessage|PeerJoinedMessage|PeerUpdatedMessage|PeerLeftMessage|SignalFromMessage|ChatFromMessage|RemovedMessage|WaitingMessage} ServerMessage
 *
 * @typedef {object} ServerMessageMap server messages by type, for `on(type, handler)`
 * @property {CitizenWelcome|StaffWelcome|CallWelcome} welcome
 * @property {PongMessage} pong
 * @property {AdvisorMessage} message
 * @property {StateMessage} state
 * @property {ReplacedMessage} replaced
 * @property {ErrorMessage} error
 * @property {ParticipantMessage} participant
 * @property {AdmittedMessage} admitted
 * @property {PeerJoinedMessage} peer_joined
 * @property {PeerUpdatedMessage} peer_updated
 * @property {PeerLeftMessage} peer_left
 * @property {SignalFromMessage} signal
 * @property {ChatFromMessage} chat
 * @property {RemovedMessage} removed
 * @property {WaitingMessage} waiting
 *
 * @typedef {object} ClientMessageMap the fields of client messages by type, for `send(type, fields)`
 * @property {{participant: string}} admit advisor only: a participant id or 'all'
 * @property {{participant: string}} remove advisor only: a peer id or a participant id
 * @property {Record<string, never>} end advisor only
 * @property {Record<string, never>} leave hang up
 * @property {{to: string, description: SessionDescriptionInit} | {to: string, candidate: IceCandidateInit|null}} signal
 * @property {{audio: boolean, video: boolean, screen: boolean}} media
 * @property {{text: string}} chat 1–1000 characters
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
   * needs for signal frames over 4096 bytes.
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
        if (message.role !== 'advisor') this.onwelcome?.(message);
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
