// @ts-check
/**
 * One other participant and the RTCPeerConnection to them, negotiated with
 * the W3C "perfect negotiation" pattern. UI-free, like Galène's Stream: the
 * mesh (call.js) hands it the peer's signals (`receive`) and hears through
 * the documented `on…` callbacks what to send and what changed.
 *
 * Decisions, and why:
 * - Polite peer of a pair: the one whose peer id sorts lower (docs/signaling.md).
 *   Every later negotiation (screen, ICE restart) may start on either side;
 *   a collision is resolved by the pattern — the impolite side ignores the
 *   colliding offer, the polite side rolls back and answers.
 * - A pair's first offer comes from the one already in the call (`start`
 *   with `offer`); the newcomer adds its own tracks only to the transceivers
 *   that offer brings, and answers — or offers itself after
 *   `FIRST_OFFER_WAIT_MS` without an offer.
 * - The screen is an added video transceiver with its own stream (sendonly);
 *   stopping it sets it inactive (renegotiated), so the other side's track
 *   leaves its stream. A received video track whose stream carries no audio
 *   track is therefore a screen; camera and microphone always share a stream
 *   (a missing device is a transceiver without track, on the same stream).
 * - A failed ICE connection restarts ICE (`restartIce`), a "disconnected"
 *   one after a short grace, and so does a picture that stays still while the
 *   peer's camera is on (quality.js); the restart is negotiated like any offer.
 * - An own offer still unanswered after `OFFER_RESEND_MS` is sent again, with
 *   the candidates found meanwhile: the server drops a signal it cannot pass
 *   on (its bus is down), and the offer or its answer may be the one lost. The
 *   media already flowing is left alone; the peer answers the repeated offer
 *   like any other, and an answer to an offer answered already is ignored.
 */

import { QualityMeter } from './quality.js';

/**
 * @typedef {import('./messages.js').Peer} PeerInfo
 * @typedef {import('./messages.js').SignalFromMessage} SignalFromMessage
 * @typedef {import('./local_media.js').LocalMedia} LocalMedia
 * @typedef {import('./local_media.js').TrackKind} TrackKind
 * @typedef {import('./quality.js').Quality} Quality
 * @typedef {{description: RTCSessionDescriptionInit} | {candidate: RTCIceCandidateInit}} SignalFields
 *
 * @typedef {object} Senders the own tracks' senders on one connection
 * @property {RTCRtpSender | null} audioSender
 * @property {RTCRtpSender | null} videoSender
 * @property {RTCRtpTransceiver | null} screenTransceiver
 *
 * @typedef {object} Prepared a connection with the own tracks and its offer set (spare.js)
 * @property {RTCPeerConnection} pc
 * @property {Senders} senders
 * @property {number} candidates own candidates found so far
 */

const DISCONNECTED_GRACE_MS = 2500;
/** A negotiated pair whose ICE has not even started by then lost its candidates: restart. */
const STALLED_ICE_MS = 4000;
/**
 * A connection that has not found a single own candidate by then is stuck
 * (Chromium 156 sometimes never gathers after concurrent negotiation): it is
 * replaced by a fresh one (`onstuck`); the peer sees the new certificate and follows.
 */
const STUCK_GATHERING_MS = 6000;
/** How long a newcomer waits for the first offer of a pair before offering itself. */
const FIRST_OFFER_WAIT_MS = 2000;
/** An own offer unanswered this long, or its answer, was lost on the way: sent again. */
const OFFER_RESEND_MS = 4000;

/**
 * Put the own camera, microphone and screen on a connection: as new
 * transceivers (which needs an offer), or — answering the peer's first
 * offer — on the camera and microphone transceivers that offer made.
 * @param {RTCPeerConnection} pc
 * @param {LocalMedia} media
 * @returns {Senders}
 */
export function sendOwnTracks(pc, media) {
  const { stream, microphone, camera } = media;
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
  const screen = media.screen;
  return {
    audioSender: send('audio', microphone),
    videoSender: send('video', camera),
    screenTransceiver: screen
      ? pc.addTransceiver(screen.getVideoTracks()[0], { direction: 'sendonly', streams: [screen] })
      : null,
  };
}

export class RemotePeer {
  /** @type {MediaStream | null} their camera */
  camera = null;
  /** @type {MediaStream | null} their shared screen */
  screen = null;
  /** @type {MediaStream | null} their microphone */
  audio = null;
  /** the media path is interrupted (ICE disconnected or failed) */
  interrupted = false;
  /** when a pair was made for an offer from the peer's new connection, before `peer_joined` told us so */
  early = 0;
  /** closed (left, or replaced by a fresh connection): it reports nothing any more */
  closed = false;

  /** @type {((fields: SignalFields) => void) | null} a description or candidate to send to the peer */
  onsignal = null;
  /** @type {(() => void) | null} their streams, the interruption or the quality changed */
  onchange = null;
  /** @type {(() => void) | null} no own candidate found in time: replace this connection */
  onstuck = null;

  /** own candidates found so far */
  #candidates = 0;
  /** own camera and microphone are on this connection (the polite side adds them with the first offer) */
  #sending = false;
  #makingOffer = false;
  /** @type {Promise<void> | null} our own setLocalDescription(offer) while it runs */
  #offering = null;
  #ignoreOffer = false;
  #settingRemoteAnswer = false;
  /** @type {Senders} */
  #senders = { audioSender: null, videoSender: null, screenTransceiver: null };
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #restartTimer;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #stallTimer;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #stuckTimer;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #offerTimer;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #resendTimer;
  #meter = new QualityMeter();

  /**
   * @param {PeerInfo} info
   * @param {boolean} polite
   * @param {RTCPeerConnection} pc
   * @param {LocalMedia} media the own tracks to send
   */
  constructor(info, polite, pc, media) {
    this.info = info;
    this.polite = polite;
    this.pc = pc;
    this.media = media;
    this.#meter.onchange = () => {
      if (!this.closed) this.onchange?.();
    };
    this.#meter.onstill = () => this.pc.restartIce();
    this.#wire();
  }

  get id() {
    return this.info.id;
  }

  /** Shown as "Verbindung wird wiederhergestellt": their socket or the media path dropped. */
  get reconnecting() {
    return this.info.connection === 'reconnecting' || this.interrupted;
  }

  /** @type {Quality | null} */
  get quality() {
    return this.#meter.quality;
  }

  /**
   * Begin the pair, once the callbacks are set: send the prepared connection's
   * offer, make the first offer, or wait for the peer's.
   * @param {boolean} offer we were in the call first, so we make the first offer
   * @param {Prepared | null} prepared the spare connection this pair took (its `pc` is ours)
   */
  start(offer, prepared) {
    const { pc } = this;
    if (prepared) {
      this.#senders = prepared.senders;
      this.#sending = true;
      this.#candidates = prepared.candidates;
      // The tracks may have changed since the spare was made (a device, the camera turned off).
      this.#senders.audioSender?.replaceTrack(this.media.microphone).catch(() => {});
      this.#senders.videoSender?.replaceTrack(this.media.camera).catch(() => {});
      const description = pc.localDescription;
      if (description) this.onsignal?.({ description: description.toJSON() });
      this.#awaitAnswer();
    } else if (offer) {
      this.#addOwnTracks();
    } else {
      this.#offerTimer = setTimeout(() => {
        if (!this.#sending && !this.closed) this.#addOwnTracks();
      }, FIRST_OFFER_WAIT_MS);
    }
    this.#stuckTimer = setTimeout(() => {
      if (this.#candidates > 0 || pc.connectionState === 'connected') return;
      if (this.closed) return;
      this.onstuck?.();
    }, STUCK_GATHERING_MS);
  }

  /** Stop every timer and the connection. */
  close() {
    this.closed = true;
    clearTimeout(this.#restartTimer);
    clearTimeout(this.#stallTimer);
    clearTimeout(this.#stuckTimer);
    clearTimeout(this.#offerTimer);
    clearTimeout(this.#resendTimer);
    this.pc.close();
  }

  /**
   * Whether an offer comes from another RTCPeerConnection than the one this
   * connection negotiated with so far: every connection has its own DTLS
   * certificate, so its fingerprint changes only with a new connection.
   * @param {string} sdp
   */
  isFromAnotherConnection(sdp) {
    const known = this.pc.remoteDescription?.sdp;
    if (!known) return false;
    const fingerprint = (/** @type {string} */ text) => /^a=fingerprint:(.*)$/m.exec(text)?.[1]?.trim();
    return fingerprint(known) !== fingerprint(sdp);
  }

  /**
   * A changed own track, for every connection: camera and microphone replace
   * the sender's track, the screen adds, replaces or stops its transceiver.
   * @param {TrackKind} kind
   * @param {MediaStreamTrack | null} track
   */
  sendTrack(kind, track) {
    if (this.pc.signalingState === 'closed') return;
    if (kind === 'audio') this.#senders.audioSender?.replaceTrack(track).catch(() => {});
    else if (kind === 'video') this.#senders.videoSender?.replaceTrack(track).catch(() => {});
    else this.#sendScreen(track);
  }

  /** Measure the connection once (quality.js). */
  async measure() {
    await this.#meter.measure(this.pc, () => this.info.video && !this.reconnecting);
  }

  /** Perfect negotiation, receiving side. @param {SignalFromMessage} message */
  async receive(message) {
    const { pc } = this;
    const { description, candidate } = message;
    if (description) {
      // Never apply a description while our own offer is being set: Chromium
      // (156) then sometimes never gathers a candidate for this connection.
      // Waiting keeps the pattern intact — a collision shows in signalingState.
      if (this.#offering) await this.#offering;
      const readyForOffer =
        !this.#makingOffer && (pc.signalingState === 'stable' || this.#settingRemoteAnswer);
      const collision = description.type === 'offer' && !readyForOffer;
      this.#ignoreOffer = !this.polite && collision;
      if (this.#ignoreOffer) return;
      // The answer to an offer of ours that was sent again after it had been answered.
      if (description.type === 'answer' && pc.signalingState === 'stable') return;
      this.#settingRemoteAnswer = description.type === 'answer';
      try {
        await pc.setRemoteDescription(description);
      } finally {
        this.#settingRemoteAnswer = false;
      }
      if (description.type === 'offer') {
        if (!this.#sending) this.#addOwnTracks();
        await pc.setLocalDescription();
        const answer = pc.localDescription;
        if (answer) this.onsignal?.({ description: answer.toJSON() });
      }
    } else if (candidate) {
      try {
        await pc.addIceCandidate(candidate);
      } catch (error) {
        // A candidate of an ignored offer, or of a connection replaced meanwhile.
        if (!this.#ignoreOffer) console.warn('call: candidate not used', error);
      }
    }
  }

  #addOwnTracks() {
    this.#sending = true;
    clearTimeout(this.#offerTimer);
    this.#senders = sendOwnTracks(this.pc, this.media);
  }

  /** @param {MediaStreamTrack | null} track */
  #sendScreen(track) {
    const transceiver = this.#senders.screenTransceiver;
    const screen = this.media.screen;
    if (track && screen && !transceiver) {
      this.#senders.screenTransceiver = this.pc.addTransceiver(track, {
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

  #wire() {
    const { pc } = this;
    pc.onnegotiationneeded = async () => {
      try {
        this.#makingOffer = true;
        const offered = pc.setLocalDescription();
        this.#offering = offered.catch(() => {});
        await offered;
        const description = pc.localDescription;
        if (description) this.onsignal?.({ description: description.toJSON() });
      } catch (error) {
        console.warn('call: offer failed', error);
      } finally {
        this.#makingOffer = false;
        this.#offering = null;
      }
    };
    pc.onicecandidate = ({ candidate }) => {
      if (!candidate || !candidate.candidate) return;
      this.#candidates += 1;
      this.onsignal?.({ candidate: candidate.toJSON() });
    };
    pc.ontrack = ({ track, streams }) => this.#received(track, streams[0] ?? null);
    pc.oniceconnectionstatechange = () => this.#iceChanged();
    pc.onsignalingstatechange = () => {
      this.#awaitAnswer();
      clearTimeout(this.#stallTimer);
      if (pc.signalingState !== 'stable') return;
      this.#stallTimer = setTimeout(() => {
        if (pc.signalingState === 'stable' && pc.iceConnectionState === 'new') pc.restartIce();
      }, STALLED_ICE_MS);
    };
  }

  /** While an own offer waits for its answer, send it again every `OFFER_RESEND_MS`. */
  #awaitAnswer() {
    clearTimeout(this.#resendTimer);
    if (this.pc.signalingState !== 'have-local-offer') return;
    this.#resendTimer = setTimeout(() => {
      if (this.closed) return;
      const offer = this.pc.localDescription;
      if (offer?.type === 'offer' && !this.#makingOffer) this.onsignal?.({ description: offer.toJSON() });
      this.#awaitAnswer();
    }, OFFER_RESEND_MS);
  }

  /** @param {MediaStreamTrack} track @param {MediaStream | null} stream */
  #received(track, stream) {
    const own = stream ?? new MediaStream([track]);
    if (track.kind === 'audio') {
      this.audio = new MediaStream([track]);
    } else if (own.getAudioTracks().length > 0) {
      this.camera = new MediaStream([track]);
    } else {
      this.screen = new MediaStream([track]);
      own.addEventListener('removetrack', () => {
        if (own.getVideoTracks().length === 0 && !this.closed) {
          this.screen = null;
          this.onchange?.();
        }
      });
    }
    this.onchange?.();
  }

  #iceChanged() {
    const { pc } = this;
    const state = pc.iceConnectionState;
    clearTimeout(this.#restartTimer);
    if (state === 'failed') {
      pc.restartIce();
    } else if (state === 'disconnected') {
      this.#restartTimer = setTimeout(() => {
        if (pc.iceConnectionState === 'disconnected') pc.restartIce();
      }, DISCONNECTED_GRACE_MS);
    }
    const interrupted = state === 'disconnected' || state === 'failed';
    if (interrupted !== this.interrupted) {
      this.interrupted = interrupted;
      this.onchange?.();
    }
  }
}
