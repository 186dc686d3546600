// @ts-check
/**
 * The call: a mesh of one connection per other participant (remote_peer.js),
 * negotiated over the signaling connection (protocol.js), with the
 * participant's own camera, microphone and screen (local_media.js). UI-free,
 * like Galène's protocol.js beside galene.js: pages learn about changes
 * through the documented `on…` callbacks and call the methods.
 *
 * Each job has its own module: local_media.js the own devices, remote_peer.js
 * one pair and its perfect negotiation, spare.js the connection prepared for
 * the next newcomer, quality.js the measurements; this one holds the pairs
 * together and routes what the server sends.
 *
 * Decisions, and why:
 * - Who offers first: the one already in the call. A newcomer (it learns of
 *   the others from `admitted`) waits; the others (they learn of it from
 *   `peer_joined`) offer at once. The newcomer adds its own tracks only to
 *   the transceivers that offer brings, and answers. So a fresh pair never
 *   starts with colliding offers (each costs a round trip, and Chromium 156
 *   sometimes gathers no candidate after one), both directions are
 *   negotiated in one exchange, and the newcomer's page switches to the call
 *   view while the offer is being made. Should no offer come within 2 s
 *   (remote_peer.js), the newcomer offers itself.
 * - A page that expects someone to join (the advisor's, while people wait)
 *   keeps a spare connection with its offer set (spare.js, `prepare`); the
 *   next newcomer's pair takes it and sends that offer at once.
 * - Everything the server sends is handled in arrival order through one queue,
 *   starting only once the own camera/microphone are ready: an offer is never
 *   applied to a connection that does not exist yet, and candidates follow
 *   their description.
 * - The page's DTLS certificate is made once, when the call object is, long
 *   before admission, and every connection of the page uses it: no
 *   connection waits for a certificate of its own.
 * - One transport for all media (`bundlePolicy: 'max-bundle'`): half the
 *   candidates to gather and relay.
 * - Quality per peer from `getStats` every 2 s (quality.js).
 */

import { MAX_CHAT } from './constants.js';
import { RemotePeer } from './remote_peer.js';
import { SpareConnection } from './spare.js';

/**
 * @typedef {import('./protocol.js').ServerConnection} ServerConnection
 * @typedef {import('./local_media.js').LocalMedia} LocalMedia
 * @typedef {import('./messages.js').Peer} PeerInfo
 * @typedef {import('./messages.js').AdmittedMessage} AdmittedMessage
 * @typedef {import('./messages.js').SignalFromMessage} SignalFromMessage
 * @typedef {import('./messages.js').ChatFromMessage} ChatFromMessage
 * @typedef {'removed'|'ended'|'left'} CallEnd
 */

const STATS_INTERVAL_MS = 2000;
/** Measurement rounds between two `quality` reports: one a minute. */
const QUALITY_REPORT_EVERY = 30;
/** How long an early pair (see `RemotePeer.early`) waits for its `peer_joined`. */
const EARLY_PAIR_MS = 10000;
/** Signals kept for a peer not announced yet (their offer can overtake `peer_joined`). */
const EARLY_SIGNALS = 200;

export class Call {
  /** @type {string | null} own peer id, once admitted */
  self = null;
  /** @type {Map<string, RemotePeer>} */
  peers = new Map();
  maxParticipants = 0;

  /** @type {(() => void) | null} admitted (again, after a reconnect): the call view opens */
  onadmitted = null;
  /** @type {((peer: RemotePeer) => void) | null} a peer joined or changed (info, streams, quality) */
  onpeer = null;
  /** @type {((peer: RemotePeer, reason: 'left'|'removed') => void) | null} */
  onpeerleft = null;
  /** @type {((message: ChatFromMessage) => void) | null} a chat line (own ones come back too) */
  onchat = null;
  /** @type {((reason: CallEnd) => void) | null} removed, ended for everyone, or hung up */
  onend = null;

  /** @type {RTCConfiguration} */
  #configuration = {};
  /** @type {Promise<void>} */
  #queue;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  #statsTimer;
  /** Measurements per grade since the last `quality` report. */
  #grades = { good: 0, fair: 0, poor: 0 };
  #measurements = 0;
  /** @type {Map<string, SignalFromMessage[]>} signals from peers not announced yet */
  #early = new Map();
  /** @type {RTCCertificate[]} the page's DTLS certificate, once made */
  #certificates = [];
  #spare;

  /**
   * @param {ServerConnection} connection
   * @param {LocalMedia} media
   */
  constructor(connection, media) {
    this.connection = connection;
    this.media = media;
    this.#queue = Promise.resolve();
    this.#spare = new SpareConnection(media, () => this.#newConnection(), () => this.active);
    /** @type {any} ECDSA P-256, as browsers make their own */
    const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
    RTCPeerConnection?.generateCertificate?.(algorithm)
      .then((certificate) => {
        this.#certificates = [certificate];
      })
      .catch(() => {}); // each connection then makes its own
    const on = connection.on.bind(connection);
    on('admitted', (m) => this.#enqueue(() => media.ready.then(() => this.#admitted(m))));
    on('peer_joined', (m) => this.#enqueue(() => this.#join(m.peer, true)));
    on('peer_updated', (m) => this.#enqueue(() => this.#update(m.peer)));
    on('peer_left', (m) => this.#enqueue(() => this.#leave(m.id, m.reason)));
    on('signal', (m) => this.#enqueue(() => this.#signal(m)));
    on('chat', (m) => this.onchat?.(m));
    on('removed', () => this.#end('removed'));
    on('state', (m) => {
      if (m.state === 'ended' && this.self) this.#end('ended');
    });
    media.ontrack = (kind, track) => {
      for (const peer of this.peers.values()) peer.sendTrack(kind, track);
    };
    media.watch(() => this.#announceMedia());
  }

  /** Whether the call has begun here (admitted and not ended). */
  get active() {
    return this.self !== null;
  }

  /**
   * Send a chat line to everyone; false when it is empty, too long or the connection is down.
   * @param {string} text
   */
  sendChat(text) {
    const trimmed = text.trim();
    if (!this.active || trimmed.length < 1 || trimmed.length > MAX_CHAT) return false;
    return this.connection.send('chat', { text: trimmed });
  }

  /**
   * Tell whether someone may join soon (the advisor's page: people wait). While
   * so, a spare connection with its offer is kept ready for the next newcomer.
   * @param {boolean} expecting
   */
  prepare(expecting) {
    this.#spare.prepare(expecting);
  }

  /** Hang up: leave the call (coming back needs a new admission). */
  hangUp() {
    this.#reportQuality();
    if (this.active) this.connection.send('leave', {});
    this.#end('left');
  }

  /** Stop the call here without telling the server (the connection ended or was taken over). */
  close() {
    this.#closeAll();
    this.self = null;
    this.media.stopScreen();
  }

  /** @param {() => Promise<void> | void} task */
  #enqueue(task) {
    this.#queue = this.#queue.then(task).catch((error) => console.warn('call:', error));
  }

  /** @param {AdmittedMessage} message */
  async #admitted(message) {
    this.#closeAll();
    this.self = message.self;
    this.maxParticipants = message.max_participants;
    /** @type {any} */
    const policy = /** @type {any} */ (message).ice_transport_policy;
    this.#configuration = {
      iceServers: message.ice_servers.map((server) => {
        /** @type {RTCIceServer} */
        const entry = { urls: server.urls };
        if (server.username) entry.username = server.username;
        if (server.credential) entry.credential = server.credential;
        return entry;
      }),
      iceTransportPolicy: policy === 'relay' ? 'relay' : 'all',
      // One transport for all media: half the candidates to gather and relay.
      bundlePolicy: 'max-bundle',
    };
    // The connections first: the call view can draw while they negotiate.
    for (const info of message.peers) await this.#join(info, false);
    this.#announceMedia();
    this.onadmitted?.();
    this.#spare.admitted();
    clearInterval(this.#statsTimer);
    this.#statsTimer = setInterval(() => this.#measureAll(), STATS_INTERVAL_MS);
  }

  /** @param {CallEnd} reason */
  #end(reason) {
    if (!this.active) return;
    this.close();
    this.onend?.(reason);
  }

  #closeAll() {
    clearInterval(this.#statsTimer);
    this.#spare.drop();
    this.#early.clear();
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
  }

  #announceMedia() {
    if (this.active) this.connection.send('media', this.media.state);
  }

  /**
   * A new peer, or one who rejoined after a drop: a fresh connection for this pair.
   * @param {PeerInfo} info
   * @param {boolean} offer we were in the call first, so we make the first offer
   */
  async #join(info, offer) {
    if (!this.self || info.id === this.self) return;
    const old = this.peers.get(info.id);
    if (old && Date.now() - old.early < EARLY_PAIR_MS) {
      // Their new connection's offer came first and already has its fresh pair.
      old.early = 0;
      this.#update(info);
      return;
    }
    if (old) old.close();
    this.#connect(info, offer);
    const early = this.#early.get(info.id) ?? [];
    this.#early.delete(info.id);
    for (const message of early) await this.#signal(message);
  }

  /**
   * A fresh connection to a peer: it offers at once, or waits for the peer's offer.
   * @param {PeerInfo} info
   * @param {boolean} offer
   * @returns {RemotePeer}
   */
  #connect(info, offer) {
    const self = this.self ?? '';
    const spare = offer ? this.#spare.take() : null;
    const pc = spare?.pc ?? this.#newConnection();
    const peer = new RemotePeer(info, self < info.id, pc, this.media);
    this.peers.set(info.id, peer);
    peer.onsignal = (fields) => {
      this.connection.send('signal', /** @type {any} */ ({ to: peer.id, ...fields }));
    };
    peer.onchange = () => this.onpeer?.(peer);
    peer.onstuck = () => {
      peer.close();
      this.#connect(peer.info, true);
    };
    peer.start(offer, spare);
    this.onpeer?.(peer);
    this.#spare.joined();
    return peer;
  }

  #newConnection() {
    return new RTCPeerConnection({ ...this.#configuration, certificates: this.#certificates });
  }

  /** @param {PeerInfo} info */
  #update(info) {
    const peer = this.peers.get(info.id);
    if (!peer) return;
    peer.info = info;
    this.onpeer?.(peer);
  }

  /** @param {string} id @param {'left'|'removed'} reason */
  #leave(id, reason) {
    this.#early.delete(id);
    const peer = this.peers.get(id);
    if (!peer) return;
    peer.close();
    this.peers.delete(id);
    this.onpeerleft?.(peer, reason);
  }

  /** A signal for one pair; kept while that peer is not announced yet. @param {SignalFromMessage} message */
  async #signal(message) {
    let peer = this.peers.get(message.from);
    if (!peer) {
      const early = this.#early.get(message.from) ?? [];
      if (early.length < EARLY_SIGNALS) early.push(message);
      this.#early.set(message.from, early);
      return;
    }
    const { description } = message;
    if (description?.type === 'offer' && peer.isFromAnotherConnection(description.sdp)) {
      // The peer reloaded or reconnected and its new connection offers before
      // `peer_joined` arrived here: answer it with a fresh pair at once.
      peer.close();
      peer = this.#connect(peer.info, false);
      peer.early = Date.now();
    }
    await peer.receive(message);
  }

  async #measureAll() {
    await Promise.all([...this.peers.values()].map((peer) => peer.measure()));
    for (const peer of this.peers.values()) {
      if (peer.quality) this.#grades[peer.quality] += 1;
    }
    this.#measurements += 1;
    if (this.#measurements >= QUALITY_REPORT_EVERY) this.#reportQuality();
  }

  /** Tell the server how the measurements went since the last report (statistics only). */
  #reportQuality() {
    const grades = this.#grades;
    this.#grades = { good: 0, fair: 0, poor: 0 };
    this.#measurements = 0;
    if (this.active && grades.good + grades.fair + grades.poor > 0) {
      this.connection.send('quality', grades);
    }
  }
}
