// @ts-check
/**
 * The spare connection: a page that expects someone to join (the advisor's,
 * while people wait) keeps one RTCPeerConnection made ahead of time, with its
 * own tracks on it and its offer set as the local description. The next
 * newcomer's pair takes it (`take`) and sends that offer at once — making a
 * connection and its offer is the slowest step of joining.
 *
 * Decisions, and why:
 * - A spare is made after a quiet moment (`SPARE_DELAY_MS`), never while a
 *   pair is being negotiated (`SPARE_AFTER_JOIN_MS` after a pair was made).
 * - It is given up while the screen is shared (a spare made before would
 *   lack it), and renewed after `SPARE_MAX_AGE_MS` (its candidates and TURN
 *   credentials may be stale).
 * - Once nobody waits any more it is kept for `SPARE_KEEP_MS`: the person
 *   just admitted left the list and joins the call a moment later, on it.
 */

import { sendOwnTracks } from './remote_peer.js';

/**
 * @typedef {import('./local_media.js').LocalMedia} LocalMedia
 * @typedef {import('./remote_peer.js').Prepared} Prepared
 *
 * @typedef {object} Spare
 * @property {RTCPeerConnection} pc
 * @property {import('./remote_peer.js').Senders} senders
 * @property {number} made Date.now() when it was made
 * @property {boolean} offered its offer is set as the local description
 * @property {number} candidates own candidates found so far
 */

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

export class SpareConnection {
  /** @type {Spare | null} */
  #spare = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #timer;
  /** Date.now() before which no spare is made */
  #notBefore = 0;
  /** whether the page expects someone to join (`prepare`) */
  #expecting = false;

  /**
   * @param {LocalMedia} media the own tracks to put on it
   * @param {() => RTCPeerConnection} connect makes a connection as the call's pairs have
   * @param {() => boolean} active whether the call has begun here (no spare before)
   */
  constructor(media, connect, active) {
    this.media = media;
    this.connect = connect;
    this.active = active;
  }

  /**
   * Someone may join soon, or no longer: keep a spare ready, or give it up
   * after a while.
   * @param {boolean} expecting
   */
  prepare(expecting) {
    this.#expecting = expecting;
    clearTimeout(this.#timer);
    if (expecting) {
      this.#schedule(SPARE_DELAY_MS);
    } else {
      this.#timer = setTimeout(() => this.drop(), SPARE_KEEP_MS);
    }
  }

  /** The call began here (admitted): a spare after the quiet moment, if someone is expected. */
  admitted() {
    if (this.#expecting) this.#schedule(SPARE_DELAY_MS);
  }

  /** A pair was made: the next spare waits until it had its start. */
  joined() {
    if (this.#expecting) this.#schedule(SPARE_AFTER_JOIN_MS);
  }

  /**
   * The spare for a new pair, when one is ready and still fits (no screen
   * shared meanwhile); the pair owns its connection from now on.
   * @returns {Prepared | null}
   */
  take() {
    const spare = this.#spare;
    if (!spare || !spare.offered || this.media.screen || Date.now() - spare.made > SPARE_MAX_AGE_MS) {
      return null;
    }
    this.#spare = null;
    spare.pc.onicecandidate = null;
    return spare;
  }

  /** Close the spare, and make none until asked again. */
  drop() {
    clearTimeout(this.#timer);
    this.#spare?.pc.close();
    this.#spare = null;
  }

  /**
   * Make a spare after `delay`, or later if an earlier call asked for later.
   * @param {number} delay
   */
  #schedule(delay) {
    this.#notBefore = Math.max(this.#notBefore, Date.now() + delay);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#make(), this.#notBefore - Date.now());
  }

  #make() {
    const old = this.#spare;
    if (old && Date.now() - old.made < SPARE_MAX_AGE_MS) return;
    this.drop();
    if (!this.active() || !this.#expecting || this.media.screen) return;
    const pc = this.connect();
    /** @type {Spare} */
    const spare = { pc, senders: sendOwnTracks(pc, this.media), made: Date.now(), offered: false, candidates: 0 };
    pc.onicecandidate = ({ candidate }) => {
      if (candidate?.candidate) spare.candidates += 1;
    };
    this.#spare = spare;
    pc.setLocalDescription().then(
      () => {
        spare.offered = true;
      },
      () => {
        if (this.#spare === spare) this.drop();
      },
    );
  }
}
