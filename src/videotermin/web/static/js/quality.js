// @ts-check
/**
 * How the media path to one peer is doing, from its connection's `getStats`:
 * the figures and their grade (shown on the peer's tile), and whether the
 * picture is stuck. UI-free: `measure` is called every few seconds (call.js)
 * and the documented `on…` callbacks report what it found.
 *
 * Decisions, and why:
 * - The grade uses the thresholds of the device check (domain/quality.py,
 *   LIMITS, generated into constants.js): round trip, packet loss since the
 *   last measurement and audio jitter, each graded on its own, the worst
 *   counts; nothing measured is no grade.
 * - A connection can come back from an outage with the picture stuck: ICE is
 *   connected again, but the keyframe the decoder asked for during the outage
 *   was lost and no new one comes. When the peer's camera is on and nothing
 *   was decoded for `STILL_MEASUREMENTS` measurements, `onstill` asks for an
 *   ICE restart — the new negotiation makes both sides start the picture
 *   afresh — at most every `STILL_RESTART_MS`.
 */

import { QUALITY_LIMITS } from './constants.js';

/**
 * @typedef {'good'|'fair'|'poor'} Quality
 *
 * @typedef {object} QualityFigures
 * @property {number|null} roundTripMs
 * @property {number|null} lossPct
 * @property {number|null} jitterMs
 */

/** Measurements in a row without a decoded frame (camera on) before the picture counts as stuck. */
const STILL_MEASUREMENTS = 2;
/** At most one restart for a stuck picture this often. */
const STILL_RESTART_MS = 10000;

/** Which item of QUALITY_LIMITS grades which figure. */
const GRADED = /** @type {const} */ ({
  roundTripMs: 'round_trip',
  lossPct: 'packet_loss',
  jitterMs: 'jitter',
});

/**
 * One figure's grade, as domain/quality.py's `Limits.grade` (green, yellow, red).
 * @param {number} value
 * @param {{green: number, red: number, higherIsBetter: boolean}} limits
 * @returns {Quality}
 */
function gradeOf(value, limits) {
  if (limits.higherIsBetter) {
    return value >= limits.green ? 'good' : value < limits.red ? 'poor' : 'fair';
  }
  return value < limits.green ? 'good' : value >= limits.red ? 'poor' : 'fair';
}

/**
 * The worst grade of the measured figures; null when nothing was measured.
 * @param {QualityFigures} figures
 * @returns {Quality|null}
 */
function gradeQuality(figures) {
  /** @type {Quality|null} */
  let worst = null;
  const order = { good: 0, fair: 1, poor: 2 };
  for (const key of /** @type {(keyof QualityFigures)[]} */ (Object.keys(GRADED))) {
    const value = figures[key];
    if (value === null || !Number.isFinite(value)) continue;
    const grade = gradeOf(value, QUALITY_LIMITS[GRADED[key]]);
    if (worst === null || order[grade] > order[worst]) worst = grade;
  }
  return worst;
}

export class QualityMeter {
  /** @type {Quality | null} */
  quality = null;
  /** @type {QualityFigures} */
  figures = { roundTripMs: null, lossPct: null, jitterMs: null };

  /** @type {(() => void) | null} the grade changed */
  onchange = null;
  /** @type {(() => void) | null} the picture is stuck: restart ICE */
  onstill = null;

  /** @type {{lost: number, received: number}} packets counted so far */
  #counted = { lost: 0, received: 0 };
  /** video frames decoded so far, and how many measurements in a row saw none new */
  #decoded = { frames: 0, still: 0 };
  /** Date.now() of the last restart for a still picture */
  #stillRestartAt = 0;

  /**
   * Measure once (nothing happens while the connection is not connected).
   * @param {RTCPeerConnection} pc
   * @param {() => boolean} pictureExpected the peer's camera is on and the path is not interrupted
   */
  async measure(pc, pictureExpected) {
    if (pc.connectionState !== 'connected') return;
    let report;
    try {
      report = await pc.getStats();
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
    const newLost = Math.max(0, lost - this.#counted.lost);
    const newReceived = Math.max(0, received - this.#counted.received);
    this.#counted = { lost, received };
    this.#watchPicture(frames, pictureExpected());
    const figures = {
      roundTripMs: roundTrip,
      lossPct: newLost + newReceived > 0 ? (newLost / (newLost + newReceived)) * 100 : null,
      jitterMs: jitter,
    };
    const quality = gradeQuality(figures);
    const changed = quality !== this.quality;
    this.figures = figures;
    this.quality = quality;
    if (changed) this.onchange?.();
  }

  /**
   * @param {number} frames video frames decoded from the peer so far
   * @param {boolean} expected a picture should be coming
   */
  #watchPicture(frames, expected) {
    const still = frames === this.#decoded.frames && expected;
    this.#decoded = { frames, still: still ? this.#decoded.still + 1 : 0 };
    if (this.#decoded.still < STILL_MEASUREMENTS) return;
    if (Date.now() - this.#stillRestartAt < STILL_RESTART_MS) return;
    this.#stillRestartAt = Date.now();
    this.#decoded.still = 0;
    this.onstill?.();
  }
}
