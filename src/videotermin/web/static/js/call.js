// @ts-check
/**
 * The call: one RTCPeerConnection per other participant (a mesh), negotiated
 * over the signaling connection (protocol.js) with the W3C "perfect
 * negotiation" pattern, and the participant's own camera, microphone and
 * screen. UI-free, like Galène's protocol.js beside galene.js: pages learn
 * about changes through the documented `on…` callbacks and call the methods.
 *
 * Decisions, and why:
 * - Who offers first: the one already in the call. A newcomer (it learns of
 *   the others from `admitted`) waits; the others (they learn of it from
 *   `peer_joined`) offer at once. The newcomer adds its own tracks only to
 *   the transceivers that offer brings, and answers. So a fresh pair never
 *   starts with colliding offers (each costs a round trip, and Chromium 156
 *   sometimes gathers no candidate after one), both directions are
 *   negotiated in one exchange, and the newcomer's page switches to the call
 *   view while the offer is being made. Should no offer come within
 *   `FIRST_OFFER_WAIT_MS`, the newcomer offers itself.
 * - A page that expects someone to join (the advisor's, while people wait)
 *   keeps a spare connection: made, with its own tracks and its offer set,
 *   before anyone is admitted. The next newcomer's pair takes it and sends
 *   that offer at once — making a connection and its offer is the slowest
 *   step of joining. A spare is made after a quiet moment (never while a
 *   pair is being negotiated), given up while the screen is shared, and
 *   renewed after `SPARE_MAX_AGE_MS`.
 * - Polite peer of a pair: the one whose peer id sorts lower (docs/signaling.md).
 *   Every later negotiation (screen, ICE restart) may start on either side;
 *   a collision is resolved by the pattern — the impolite side ignores the
 *   colliding offer, the polite side rolls back and answers.
 * - Everything the server sends is handled in arrival order through one queue,
 *   starting only once the own camera/microphone are ready: an offer is never
 *   applied to a connection that does not exist yet, and candidates follow
 *   their description.
 * - Camera and microphone ride on one MediaStream; switching a device or
 *   turning the camera off replaces the sender's track (no renegotiation).
 *   Camera off sends no track at all (`replaceTrack(null)`) and the camera
 *   light goes out; the `media` message tells the others to hide the picture,
 *   so no frozen last frame is ever shown.
 * - The screen is an added video transceiver with its own stream (sendonly);
 *   stopping it sets it inactive (renegotiated), so the other side's track
 *   leaves its stream. A received video track whose stream carries no audio
 *   track is therefore a screen; camera and microphone always share a stream
 *   (a missing device is a transceiver without track, on the same stream).
 * - The page's DTLS certificate is made once, when the call object is, long
 *   before admission, and every connection of the page uses it: no
 *   connection waits for a certificate of its own.
 * - A failed ICE connection restarts ICE (`restartIce`), a "disconnected"
 *   one after a short grace, and so does a picture that stays still while the
 *   peer's camera is on (see `#watchPicture`); the restart is negotiated like
 *   any offer.
 * - Quality per peer from `getStats` every 2 s, graded with the thresholds of
 *   the device check (domain/quality.py): round trip < 300 ms, loss < 3 %,
 *   jitter < 30 ms is good; ≥ 600 ms, ≥ 10 % or ≥ 100 ms is poor; else fair.
 */

import { constraintsFor, problemOf, remember, remembered } from './self_view.js';

/**
 * @typedef {import('./protocol.js').ServerConnection} ServerConnection
 * @typedef {import('./protocol.js').Peer} PeerInfo
 * @typedef {import('./protocol.js').AdmittedMessage} AdmittedMessage
 * @typedef {import('./protocol.js').SignalFromMessage} SignalFromMessage
 * @typedef {import('./protocol.js').ChatFromMessage} ChatFromMessage
 * @typedef {'good'|'fair'|'poor'} Quality
 * @typedef {import('./self_view.js').DeviceKind} DeviceKind
 * @typedef {import('./self_view.js').MediaProblem} MediaProblem
 * @typedef {'removed'|'ended'|'left'} CallEnd
 *
 * @typedef {object} QualityFigures
 * @property {number|null} roundTripMs
 * @property {number|null} lossPct
 * @property {number|null} jitterMs
 */

/** Lower bounds of "fair" and of "poor", as in domain/quality.py (LIMITS). */
export const QUALITY_LIMITS = {
  roundTripMs: [300, 600],
  lossPct: [3, 10],
  jitterMs: [30, 100],
};
const STATS_INTERVAL_MS = 2000;
/** Measurements in a row without a decoded frame (camera on) before the picture counts as stuck. */
const STILL_MEASUREMENTS = 2;
/** At most one restart for a stuck picture this often. */
const STILL_RESTART_MS = 10000;
const DISCONNECTED_GRACE_MS = 2500;
/** A negotiated pair whose ICE has not even started by then lost its candidates: restart. */
const STALLED_ICE_MS = 4000;
/**
 * A connection that has not found a single own candidate by then is stuck
 * (Chromium 156 sometimes never gathers after concurrent negotiation): it is
 * replaced by a fresh one; the peer sees the new certificate and follows.
 */
const STUCK_GATHERING_MS = 6000;
/** How long a newcomer waits for the first offer of a pair before offering itself. */
const FIRST_OFFER_WAIT_MS = 2000;
/** Quiet time before a spare connection is made (see `Call.prepare`)… */
const SPARE_DELAY_MS = 500;
/** …and after a pair was made (its negotiation, ICE and first frames come first). */
const SPARE_AFTER_JOIN_MS = 3000;
/**
 * How long a spare is kept once nobody waits any more: the person just admitted
 * left the list and joins the call a moment later, on that spare.
 */
const SPARE_KEEP_MS = 10000;
/** A spare older than this is made anew (its candidates and TURN credentials may be stale). */
const SPARE_MAX_AGE_MS = 10 * 60 * 1000;
/** How long an early pair (see `RemotePeer.early`) waits for its `peer_joined`. */
const EARLY_PAIR_MS = 10000;
/** Signals kept for a peer not announced yet (their offer can overtake `peer_joined`). */
const EARLY_SIGNALS = 200;

/**
 * The worst grade of the measured figures; null when nothing was measured.
 * @param {QualityFigures} figures
 * @returns {Quality|null}
 */
export function gradeQuality(figures) {
  /** @type {Quality|null} */
  let worst = null;
  const order = { good: 0, fair: 1, poor: 2 };
  for (const key of /** @type {(keyof QualityFigures)[]} */ (Object.keys(QUALITY_LIMITS))) {
    const value = figures[key];
    if (value === null || !Number.isFinite(value)) continue;
    const [fair, poor] = QUALITY_LIMITS[key];
    /** @type {Quality} */
    const grade = value >= poor ? 'poor' : value >= fair ? 'fair' : 'good';
    if (worst === null || order[grade] > order[worst]) worst = grade;
  }
  return worst;
}

/** Whether this browser can share a screen: desktop browsers with getDisplayMedia. */
export function canShareScreen() {
  const mobile =
    /** @type {any} */ (navigator).userAgentData?.mobile ??
    /Android|iPhone|iPad|iPod|Mobile/i.test(navigator.userAgent);
  return Boolean(navigator.mediaDevices?.getDisplayMedia) && !mobile;
}

/**
 * The participant's own camera, microphone and screen. The microphone is muted
 * by disabling its track (the peers get silence); the camera is turned off by
 * stopping its track, so the light goes out and nothing is sent.
 */
export class LocalMedia {
  /** camera and microphone */
  stream = new MediaStream();
  /** @type {MediaStream | null} the shared screen */
  screen = null;
  microphoneOn = true;
  /** @type {MediaProblem | null} the last attempt to open a device failed so */
  problem = null;
  /** @type {DeviceKind | null} a device that stopped during the call (unplugged, or taken by another program) */
  lost = null;
  /** @type {Set<() => void>} */
  #listeners = new Set();
  /** @type {((kind: 'audio'|'video'|'screen', track: MediaStreamTrack | null) => void) | null} a track to send changed */
  ontrack = null;
  /** @type {Promise<void>} resolved once the devices were asked for (granted or not) */
  ready;

  /** @param {Promise<MediaStream | null>} [adopted] a stream the page already holds */
  constructor(adopted) {
    this.ready = Promise.resolve();
    this.adopt(adopted ?? this.#open());
  }

  /**
   * Take over the stream the page holds (the waiting room's self-view, again after it restarted).
   * @param {Promise<MediaStream | null>} stream
   */
  adopt(stream) {
    this.ready = stream.then((found) => {
      if (found) this.stream = found;
      for (const track of this.stream.getTracks()) this.#watchEnd(track);
      this.#changed();
    });
  }

  /** @returns {Promise<MediaStream | null>} */
  async #open() {
    if (!navigator.mediaDevices?.getUserMedia) {
      this.problem = 'failed';
      return null;
    }
    try {
      return await navigator.mediaDevices.getUserMedia({
        video: constraintsFor('videoinput', remembered('videoinput'), false),
        audio: constraintsFor('audioinput', remembered('audioinput'), false),
      });
    } catch (error) {
      this.problem = problemOf(error);
    }
    try {
      // No camera (or it is busy): audio only still makes a call.
      return await navigator.mediaDevices.getUserMedia({
        audio: constraintsFor('audioinput', remembered('audioinput'), false),
      });
    } catch {
      return null;
    }
  }

  /**
   * Hear every change of the state above (the call tells the others, the page redraws).
   * @param {() => void} listener
   */
  watch(listener) {
    this.#listeners.add(listener);
  }

  #changed() {
    for (const listener of this.#listeners) listener();
  }

  /**
   * A camera or microphone can stop on its own — unplugged, or taken over by
   * another program. Its track then leaves the stream and the peers' senders,
   * so the others see the camera off or the microphone muted (never a frozen
   * picture), and the page says what happened and how to go on.
   * @param {MediaStreamTrack} track
   */
  #watchEnd(track) {
    track.addEventListener('ended', () => {
      if (!this.stream.getTracks().includes(track)) return; // stopped by us
      this.stream.removeTrack(track);
      track.stop();
      this.lost = track.kind === 'video' ? 'videoinput' : 'audioinput';
      this.ontrack?.(track.kind === 'video' ? 'video' : 'audio', null);
      this.#changed();
    });
  }

  get microphone() {
    return this.stream.getAudioTracks()[0] ?? null;
  }

  get camera() {
    return this.stream.getVideoTracks()[0] ?? null;
  }

  /** What the others are told (the `media` message). */
  get state() {
    return {
      audio: Boolean(this.microphone) && this.microphoneOn,
      video: Boolean(this.camera),
      screen: Boolean(this.screen),
    };
  }

  /** @param {boolean} on */
  setMicrophone(on) {
    this.microphoneOn = on;
    const track = this.microphone;
    if (track) track.enabled = on;
    this.#changed();
  }

  /** @param {boolean} on */
  async setCamera(on) {
    const current = this.camera;
    if (!on) {
      if (!current) return;
      this.stream.removeTrack(current);
      current.stop();
      this.ontrack?.('video', null);
      this.#changed();
      return;
    }
    if (current) return;
    await this.#replace('videoinput', remembered('videoinput'), false);
  }

  /**
   * Use another camera or microphone; the new track replaces the old one in
   * every peer connection. A camera that is off stays off (the choice is kept).
   * @param {DeviceKind} kind
   * @param {string} deviceId
   */
  async useDevice(kind, deviceId) {
    if (kind === 'videoinput' && !this.camera) {
      remember(kind, deviceId);
      this.#changed();
      return;
    }
    await this.#replace(kind, deviceId, true);
  }

  /** @param {DeviceKind} kind @param {string | null} deviceId @param {boolean} exact */
  async #replace(kind, deviceId, exact) {
    const constraints = constraintsFor(kind, deviceId, exact);
    let fresh;
    try {
      fresh = await navigator.mediaDevices.getUserMedia(
        kind === 'videoinput' ? { video: constraints } : { audio: constraints },
      );
    } catch (error) {
      this.problem = problemOf(error);
      this.#changed();
      return;
    }
    const track = fresh.getTracks()[0];
    const old = kind === 'videoinput' ? this.camera : this.microphone;
    if (old) {
      this.stream.removeTrack(old);
      old.stop();
    }
    if (kind === 'audioinput') track.enabled = this.microphoneOn;
    this.stream.addTrack(track);
    this.#watchEnd(track);
    if (this.lost === kind) this.lost = null;
    const settings = track.getSettings();
    if (settings.deviceId) remember(kind, settings.deviceId);
    this.problem = null;
    this.ontrack?.(kind === 'videoinput' ? 'video' : 'audio', track);
    this.#changed();
  }

  /** Ask the browser for a screen, window or tab (needs a click). */
  async startScreen() {
    if (this.screen) return;
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch {
      return; // the participant chose nothing
    }
    const track = stream.getVideoTracks()[0];
    if (!track) return;
    track.contentHint = 'detail';
    // The browser's own "stop sharing" button ends the track.
    track.addEventListener('ended', () => this.stopScreen());
    this.screen = stream;
    this.ontrack?.('screen', track);
    this.#changed();
  }

  stopScreen() {
    if (!this.screen) return;
    for (const track of this.screen.getTracks()) track.stop();
    this.screen = null;
    this.ontrack?.('screen', null);
    this.#changed();
  }

  /** The cameras and microphones, once access was granted (only then are they named). */
  async devices() {
    if (!navigator.mediaDevices?.enumerateDevices) return [];
    const all = await navigator.mediaDevices.enumerateDevices();
    return all.filter((d) => (d.kind === 'videoinput' || d.kind === 'audioinput') && d.deviceId);
  }

  /** @param {DeviceKind} kind the device in use, or the remembered choice */
  deviceInUse(kind) {
    const track = kind === 'videoinput' ? this.camera : this.microphone;
    return track?.getSettings().deviceId ?? remembered(kind);
  }

  /** Release every device. */
  stop() {
    for (const track of this.stream.getTracks()) track.stop();
    this.stopScreen();
  }
}

/**
 * One other participant and the peer connection to them.
 */
export class RemotePeer {
  /** @type {MediaStream | null} their camera */
  camera = null;
  /** @type {MediaStream | null} their shared screen */
  screen = null;
  /** @type {MediaStream | null} their microphone */
  audio = null;
  /** @type {Quality | null} */
  quality = null;
  /** @type {QualityFigures} */
  figures = { roundTripMs: null, lossPct: null, jitterMs: null };
  /** the media path is interrupted (ICE disconnected or failed) */
  interrupted = false;
  /** when a pair was made for an offer from the peer's new connection, before `peer_joined` told us so */
  early = 0;
  /** own candidates found so far */
  candidates = 0;
  /** own camera and microphone are on this connection (the polite side adds them with the first offer) */
  sending = false;

  makingOffer = false;
  /** @type {Promise<void> | null} our own setLocalDescription(offer) while it runs */
  offering = null;
  ignoreOffer = false;
  settingRemoteAnswer = false;
  /** @type {RTCRtpSender | null} */
  audioSender = null;
  /** @type {RTCRtpSender | null} */
  videoSender = null;
  /** @type {RTCRtpTransceiver | null} */
  screenTransceiver = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  restartTimer;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  stallTimer;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  stuckTimer;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  offerTimer;
  /** @type {{lost: number, received: number}} */
  counted = { lost: 0, received: 0 };
  /** video frames decoded from them so far, and how many measurements in a row saw none new */
  decoded = { frames: 0, still: 0 };
  /** Date.now() of the last restart for a still picture */
  stillRestartAt = 0;

  /**
   * @param {PeerInfo} info
   * @param {boolean} polite
   * @param {RTCPeerConnection} pc
   */
  constructor(info, polite, pc) {
    this.info = info;
    this.polite = polite;
    this.pc = pc;
  }

  get id() {
    return this.info.id;
  }

  /** Shown as "Verbindung wird wiederhergestellt": their socket or the media path dropped. */
  get reconnecting() {
    return this.info.connection === 'reconnecting' || this.interrupted;
  }
}

/**
 * A connection made ahead of time for the next newcomer (see `Call.prepare`).
 * @typedef {object} Spare
 * @property {RTCPeerConnection} pc
 * @property {Senders} senders
 * @property {number} made Date.now() when it was made
 * @property {boolean} offered its offer is set as the local description
 * @property {number} candidates own candidates found so far
 *
 * @typedef {object} Senders
 * @property {RTCRtpSender} audioSender
 * @property {RTCRtpSender} videoSender
 * @property {RTCRtpTransceiver | null} screenTransceiver
 */

/**
 * Whether an offer comes from another RTCPeerConnection than the one this
 * connection negotiated with so far: every connection has its own DTLS
 * certificate, so its fingerprint changes only with a new connection.
 * @param {RTCPeerConnection} pc
 * @param {string} sdp
 */
function isFromAnotherConnection(pc, sdp) {
  const known = pc.remoteDescription?.sdp;
  if (!known) return false;
  const fingerprint = (/** @type {string} */ text) => /^a=fingerprint:(.*)$/m.exec(text)?.[1]?.trim();
  return fingerprint(known) !== fingerprint(sdp);
}

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
  /** @type {Map<string, SignalFromMessage[]>} signals from peers not announced yet */
  #early = new Map();
  /** @type {RTCCertificate[]} the page's DTLS certificate, once made */
  #certificates = [];
  /** @type {Spare | null} */
  #spare = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #spareTimer;
  /** Date.now() before which no spare is made */
  #spareNotBefore = 0;
  /** whether the page expects someone to join (`prepare`) */
  #expecting = false;

  /**
   * @param {ServerConnection} connection
   * @param {LocalMedia} media
   */
  constructor(connection, media) {
    this.connection = connection;
    this.media = media;
    this.#queue = Promise.resolve();
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
    media.ontrack = (kind, track) => this.#sendTrack(kind, track);
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
    if (!this.active || trimmed.length < 1 || trimmed.length > 1000) return false;
    return this.connection.send('chat', { text: trimmed });
  }

  /**
   * Tell whether someone may join soon (the advisor's page: people wait). While
   * so, a spare connection with its offer is kept ready for the next newcomer.
   * @param {boolean} expecting
   */
  prepare(expecting) {
    this.#expecting = expecting;
    clearTimeout(this.#spareTimer);
    if (expecting) {
      this.#scheduleSpare(SPARE_DELAY_MS);
    } else {
      this.#spareTimer = setTimeout(() => this.#dropSpare(), SPARE_KEEP_MS);
    }
  }

  /** Hang up: leave the call (coming back needs a new admission). */
  hangUp() {
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
    if (this.#expecting) this.#scheduleSpare(SPARE_DELAY_MS);
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
    this.#dropSpare();
    this.#early.clear();
    for (const peer of this.peers.values()) this.#closePeer(peer);
    this.peers.clear();
  }

  /** @param {RemotePeer} peer */
  #closePeer(peer) {
    clearTimeout(peer.restartTimer);
    clearTimeout(peer.stallTimer);
    clearTimeout(peer.stuckTimer);
    clearTimeout(peer.offerTimer);
    peer.pc.close();
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
    if (old) this.#closePeer(old);
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
    const spare = offer ? this.#takeSpare() : null;
    const pc = spare?.pc ?? this.#newConnection();
    const peer = new RemotePeer(info, self < info.id, pc);
    this.peers.set(info.id, peer);
    this.#wire(peer);
    if (spare) {
      Object.assign(peer, spare.senders);
      peer.sending = true;
      peer.candidates = spare.candidates;
      // The tracks may have changed since the spare was made (a device, the camera turned off).
      peer.audioSender?.replaceTrack(this.media.microphone).catch(() => {});
      peer.videoSender?.replaceTrack(this.media.camera).catch(() => {});
      const description = pc.localDescription;
      if (description) this.#sendSignal(peer, { description: description.toJSON() });
    } else if (offer) {
      this.#addOwnTracks(peer);
    } else {
      peer.offerTimer = setTimeout(() => {
        if (!peer.sending && this.peers.get(peer.id) === peer) this.#addOwnTracks(peer);
      }, FIRST_OFFER_WAIT_MS);
    }
    peer.stuckTimer = setTimeout(() => {
      if (peer.candidates > 0 || pc.connectionState === 'connected') return;
      if (this.peers.get(peer.id) !== peer) return;
      this.#closePeer(peer);
      this.#connect(peer.info, true);
    }, STUCK_GATHERING_MS);
    this.onpeer?.(peer);
    if (this.#expecting) this.#scheduleSpare(SPARE_AFTER_JOIN_MS);
    return peer;
  }

  #newConnection() {
    return new RTCPeerConnection({ ...this.#configuration, certificates: this.#certificates });
  }

  /**
   * Make a spare after `delay`, or later if an earlier call asked for later.
   * @param {number} delay
   */
  #scheduleSpare(delay) {
    this.#spareNotBefore = Math.max(this.#spareNotBefore, Date.now() + delay);
    clearTimeout(this.#spareTimer);
    this.#spareTimer = setTimeout(() => this.#makeSpare(), this.#spareNotBefore - Date.now());
  }

  #makeSpare() {
    const old = this.#spare;
    if (old && Date.now() - old.made < SPARE_MAX_AGE_MS) return;
    this.#dropSpare();
    if (!this.active || !this.#expecting || this.media.screen) return;
    const pc = this.#newConnection();
    /** @type {Spare} */
    const spare = { pc, senders: this.#sendOwnTracks(pc), made: Date.now(), offered: false, candidates: 0 };
    pc.onicecandidate = ({ candidate }) => {
      if (candidate?.candidate) spare.candidates += 1;
    };
    this.#spare = spare;
    pc.setLocalDescription().then(
      () => {
        spare.offered = true;
      },
      () => {
        if (this.#spare === spare) this.#dropSpare();
      },
    );
  }

  /** The spare for a new pair, when one is ready and still fits (no screen shared meanwhile). */
  #takeSpare() {
    const spare = this.#spare;
    if (!spare || !spare.offered || this.media.screen || Date.now() - spare.made > SPARE_MAX_AGE_MS) {
      return null;
    }
    this.#spare = null;
    spare.pc.onicecandidate = null;
    return spare;
  }

  #dropSpare() {
    clearTimeout(this.#spareTimer);
    this.#spare?.pc.close();
    this.#spare = null;
  }

  /**
   * Put the own camera, microphone and screen on the connection: as new
   * transceivers (which needs an offer), or — answering the peer's first
   * offer — on the camera and microphone transceivers that offer made.
   * @param {RemotePeer} peer
   */
  #addOwnTracks(peer) {
    peer.sending = true;
    clearTimeout(peer.offerTimer);
    Object.assign(peer, this.#sendOwnTracks(peer.pc));
  }

  /**
   * @param {RTCPeerConnection} pc
   * @returns {Senders}
   */
  #sendOwnTracks(pc) {
    const { stream, microphone, camera } = this.media;
    /** @param {'audio'|'video'} kind @param {MediaStreamTrack | null} track */
    const send = (kind, track) => {
      const offered = pc
        .getTransceivers()
        .find((t) => t.mid !== null && t.receiver.track.kind === kind);
      if (!offered) {
        return track
          ? pc.addTrack(track, stream)
          : pc.addTransceiver(kind, { direction: 'sendrecv', streams: [stream] }).sender;
      }
      offered.direction = 'sendrecv';
      offered.sender.replaceTrack(track).catch(() => {});
      offered.sender.setStreams(stream);
      return offered.sender;
    };
    const screen = this.media.screen;
    return {
      audioSender: send('audio', microphone),
      videoSender: send('video', camera),
      screenTransceiver: screen
        ? pc.addTransceiver(screen.getVideoTracks()[0], { direction: 'sendonly', streams: [screen] })
        : null,
    };
  }

  /** @param {'audio'|'video'|'screen'} kind @param {MediaStreamTrack | null} track */
  #sendTrack(kind, track) {
    for (const peer of this.peers.values()) {
      if (peer.pc.signalingState === 'closed') continue;
      if (kind === 'audio') peer.audioSender?.replaceTrack(track).catch(() => {});
      else if (kind === 'video') peer.videoSender?.replaceTrack(track).catch(() => {});
      else this.#sendScreen(peer, track);
    }
  }

  /** @param {RemotePeer} peer @param {MediaStreamTrack | null} track */
  #sendScreen(peer, track) {
    const transceiver = peer.screenTransceiver;
    const screen = this.media.screen;
    if (track && screen && !transceiver) {
      peer.screenTransceiver = peer.pc.addTransceiver(track, {
        direction: 'sendonly',
        streams: [screen],
      });
      return;
    }
    if (!transceiver) return;
    transceiver.sender.replaceTrack(track).catch(() => {});
    if (track && screen) transceiver.sender.setStreams(screen);
    transceiver.direction = track ? 'sendonly' : 'inactive';
  }

  /**
   * A description or candidate for one peer.
   * @param {RemotePeer} peer
   * @param {{description: RTCSessionDescriptionInit} | {candidate: RTCIceCandidateInit}} fields
   */
  #sendSignal(peer, fields) {
    this.connection.send('signal', /** @type {any} */ ({ to: peer.id, ...fields }));
  }

  /** @param {RemotePeer} peer */
  #wire(peer) {
    const { pc } = peer;
    pc.onnegotiationneeded = async () => {
      try {
        peer.makingOffer = true;
        const offered = pc.setLocalDescription();
        peer.offering = offered.catch(() => {});
        await offered;
        const description = pc.localDescription;
        if (description) this.#sendSignal(peer, { description: description.toJSON() });
      } catch (error) {
        console.warn('call: offer failed', error);
      } finally {
        peer.makingOffer = false;
        peer.offering = null;
      }
    };
    pc.onicecandidate = ({ candidate }) => {
      if (!candidate || !candidate.candidate) return;
      peer.candidates += 1;
      this.#sendSignal(peer, { candidate: candidate.toJSON() });
    };
    pc.ontrack = ({ track, streams }) => this.#received(peer, track, streams[0] ?? null);
    pc.oniceconnectionstatechange = () => this.#iceChanged(peer);
    pc.onsignalingstatechange = () => {
      clearTimeout(peer.stallTimer);
      if (pc.signalingState !== 'stable') return;
      peer.stallTimer = setTimeout(() => {
        if (pc.signalingState === 'stable' && pc.iceConnectionState === 'new') pc.restartIce();
      }, STALLED_ICE_MS);
    };
  }

  /**
   * @param {RemotePeer} peer
   * @param {MediaStreamTrack} track
   * @param {MediaStream | null} stream
   */
  #received(peer, track, stream) {
    const own = stream ?? new MediaStream([track]);
    if (track.kind === 'audio') {
      peer.audio = new MediaStream([track]);
    } else if (own.getAudioTracks().length > 0) {
      peer.camera = new MediaStream([track]);
    } else {
      peer.screen = new MediaStream([track]);
      own.addEventListener('removetrack', () => {
        if (own.getVideoTracks().length === 0 && this.peers.get(peer.id) === peer) {
          peer.screen = null;
          this.onpeer?.(peer);
        }
      });
    }
    this.onpeer?.(peer);
  }

  /** @param {RemotePeer} peer */
  #iceChanged(peer) {
    const { pc } = peer;
    const state = pc.iceConnectionState;
    clearTimeout(peer.restartTimer);
    if (state === 'failed') {
      pc.restartIce();
    } else if (state === 'disconnected') {
      peer.restartTimer = setTimeout(() => {
        if (pc.iceConnectionState === 'disconnected') pc.restartIce();
      }, DISCONNECTED_GRACE_MS);
    }
    const interrupted = state === 'disconnected' || state === 'failed';
    if (interrupted !== peer.interrupted) {
      peer.interrupted = interrupted;
      this.onpeer?.(peer);
    }
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
    this.#closePeer(peer);
    this.peers.delete(id);
    this.onpeerleft?.(peer, reason);
  }

  /** Perfect negotiation, receiving side. @param {SignalFromMessage} message */
  async #signal(message) {
    let peer = this.peers.get(message.from);
    if (!peer) {
      const early = this.#early.get(message.from) ?? [];
      if (early.length < EARLY_SIGNALS) early.push(message);
      this.#early.set(message.from, early);
      return;
    }
    const { description, candidate } = message;
    if (description?.type === 'offer' && isFromAnotherConnection(peer.pc, description.sdp)) {
      // The peer reloaded or reconnected and its new connection offers before
      // `peer_joined` arrived here: answer it with a fresh pair at once.
      this.#closePeer(peer);
      peer = this.#connect(peer.info, false);
      peer.early = Date.now();
    }
    const { pc } = peer;
    if (description) {
      // Never apply a description while our own offer is being set: Chromium
      // (156) then sometimes never gathers a candidate for this connection.
      // Waiting keeps the pattern intact — a collision shows in signalingState.
      if (peer.offering) await peer.offering;
      const readyForOffer =
        !peer.makingOffer && (pc.signalingState === 'stable' || peer.settingRemoteAnswer);
      const collision = description.type === 'offer' && !readyForOffer;
      peer.ignoreOffer = !peer.polite && collision;
      if (peer.ignoreOffer) return;
      peer.settingRemoteAnswer = description.type === 'answer';
      try {
        await pc.setRemoteDescription(description);
      } finally {
        peer.settingRemoteAnswer = false;
      }
      if (description.type === 'offer') {
        if (!peer.sending) this.#addOwnTracks(peer);
        await pc.setLocalDescription();
        const answer = pc.localDescription;
        if (answer) this.#sendSignal(peer, { description: answer.toJSON() });
      }
    } else if (candidate) {
      try {
        await pc.addIceCandidate(candidate);
      } catch (error) {
        // A candidate of an ignored offer, or of a connection replaced meanwhile.
        if (!peer.ignoreOffer) console.warn('call: candidate not used', error);
      }
    }
  }

  /**
   * A connection can come back from an outage with the picture stuck: ICE is
   * connected again, but the keyframe the decoder asked for during the outage
   * was lost and no new one comes. When their camera is on and nothing was
   * decoded for `STILL_MEASUREMENTS` measurements, restart ICE — the new
   * negotiation makes both sides start the picture afresh.
   * @param {RemotePeer} peer
   * @param {number} frames video frames decoded from them so far
   */
  #watchPicture(peer, frames) {
    const still = frames === peer.decoded.frames && peer.info.video && !peer.reconnecting;
    peer.decoded = { frames, still: still ? peer.decoded.still + 1 : 0 };
    if (peer.decoded.still < STILL_MEASUREMENTS) return;
    if (Date.now() - peer.stillRestartAt < STILL_RESTART_MS) return;
    peer.stillRestartAt = Date.now();
    peer.decoded.still = 0;
    peer.pc.restartIce();
  }

  async #measureAll() {
    await Promise.all([...this.peers.values()].map((peer) => this.#measure(peer)));
  }

  /** @param {RemotePeer} peer */
  async #measure(peer) {
    if (peer.pc.connectionState !== 'connected') return;
    let report;
    try {
      report = await peer.pc.getStats();
    } catch {
      return;
    }
    /** @type {number | null} */
    let roundTrip = null;
    let lost = 0;
    let received = 0;
    let frames = 0;
    /** @type {number | null} */
    let jitter = null;
    report.forEach((stat) => {
      if (stat.type === 'transport' && stat.selectedCandidatePairId) {
        const pair = report.get(stat.selectedCandidatePairId);
        if (pair && typeof pair.currentRoundTripTime === 'number') {
          roundTrip = pair.currentRoundTripTime * 1000;
        }
      } else if (stat.type === 'inbound-rtp') {
        lost += Number(stat.packetsLost) || 0;
        received += Number(stat.packetsReceived) || 0;
        if (stat.kind === 'audio' && typeof stat.jitter === 'number') jitter = stat.jitter * 1000;
        if (stat.kind === 'video') frames += Number(stat.framesDecoded) || 0;
      }
    });
    const newLost = Math.max(0, lost - peer.counted.lost);
    const newReceived = Math.max(0, received - peer.counted.received);
    peer.counted = { lost, received };
    this.#watchPicture(peer, frames);
    const figures = {
      roundTripMs: roundTrip,
      lossPct: newLost + newReceived > 0 ? (newLost / (newLost + newReceived)) * 100 : null,
      jitterMs: jitter,
    };
    const quality = gradeQuality(figures);
    const changed = quality !== peer.quality;
    peer.figures = figures;
    peer.quality = quality;
    if (changed && this.peers.get(peer.id) === peer) this.onpeer?.(peer);
  }
}
