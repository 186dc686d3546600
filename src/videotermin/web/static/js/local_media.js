// @ts-check
/**
 * The participant's own camera, microphone and screen, for the call (call.js)
 * and the call view (call_ui.js). UI-free: pages hear changes through `watch`,
 * the peer connections through `ontrack`.
 *
 * Decisions, and why:
 * - Camera and microphone ride on one MediaStream; switching a device or
 *   turning the camera off replaces the senders' track (no renegotiation).
 *   Camera off sends no track at all (`replaceTrack(null)`) and the camera
 *   light goes out; the `media` message tells the others to hide the picture,
 *   so no frozen last frame is ever shown.
 * - The screen has its own stream (a `sendonly` transceiver per peer, see
 *   remote_peer.js): a received video track whose stream carries no audio
 *   track is therefore a screen.
 */

import { constraintsFor, problemOf, remember, remembered } from './self_view.js';

/**
 * @typedef {import('./self_view.js').DeviceKind} DeviceKind
 * @typedef {import('./self_view.js').MediaProblem} MediaProblem
 * @typedef {'audio'|'video'|'screen'} TrackKind what a sent track is for
 * @typedef {'system'|'failed'} ScreenProblem why a screen could not be shared: the
 *   operating system does not let the browser record it, or anything else
 */

/** How long the notice that a screen could not be shared stays. */
const SCREEN_PROBLEM_MS = 15_000;

/**
 * Why asking for a screen failed, or null when the participant chose nothing: closing
 * the picker gives NotAllowedError (AbortError in some browsers). The operating system
 * refusing the browser (macOS without the screen recording permission) gives
 * NotAllowedError too, but Chromium names the system in its message; any other error
 * (no screen found, the capture could not start) is a failure worth telling.
 * @param {unknown} error
 * @returns {ScreenProblem | null}
 */
export function screenProblemOf(error) {
  const name = error instanceof DOMException ? error.name : '';
  const message = error instanceof Error ? error.message : '';
  if (name === 'AbortError') return null;
  if (name === 'NotAllowedError') return /system/i.test(message) ? 'system' : null;
  return 'failed';
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
  /** @type {ScreenProblem | null} the last try to share the screen failed so (not: the participant chose nothing) */
  screenProblem = null;
  /** @type {Set<() => void>} */
  #listeners = new Set();
  /** failed tries to share the screen: only the last one's notice is taken down */
  #screenAttempts = 0;
  /** @type {((kind: TrackKind, track: MediaStreamTrack | null) => void) | null} a track to send changed */
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
    this.screenProblem = null;
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (error) {
      this.screenProblem = screenProblemOf(error);
      this.#changed();
      // Said once, shown for a while: the notice must not cover the call for good.
      const attempt = ++this.#screenAttempts;
      setTimeout(() => {
        if (attempt !== this.#screenAttempts || !this.screenProblem) return;
        this.screenProblem = null;
        this.#changed();
      }, SCREEN_PROBLEM_MS);
      return;
    }
    const track = stream.getVideoTracks()[0];
    if (!track) return;
    track.contentHint = 'detail';
    // The browser's own "stop sharing" button ends the track.
    track.addEventListener('ended', () => this.stopScreen());
    this.screen = stream;
    this.screenProblem = null;
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
