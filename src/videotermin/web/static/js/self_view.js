// @ts-check
/**
 * The citizen's own picture and the choice of camera and microphone.
 *
 * Owns one MediaStream: it shows it in a <video>, lists the devices in two
 * <select>s (filled once the browser has granted access, because only then
 * does it reveal device names) and applies a new choice at once by replacing
 * that one track. The choice is remembered on this device, so the call later
 * starts with the same devices and nobody is asked twice.
 */

const STORAGE = { videoinput: 'videotermin.camera', audioinput: 'videotermin.microphone' };

/** @typedef {'videoinput'|'audioinput'} DeviceKind */
/** @typedef {'blocked'|'missing'|'busy'|'failed'} MediaProblem */

/**
 * What went wrong, in the terms the page explains.
 * @param {unknown} error
 * @returns {MediaProblem}
 */
export function problemOf(error) {
  const name = error instanceof DOMException ? error.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'blocked';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'missing';
  if (name === 'NotReadableError' || name === 'AbortError') return 'busy';
  return 'failed';
}

/** @param {DeviceKind} kind @returns {string | null} */
export function remembered(kind) {
  try {
    return localStorage.getItem(STORAGE[kind]);
  } catch {
    return null;
  }
}

/** @param {DeviceKind} kind @param {string} deviceId */
export function remember(kind, deviceId) {
  try {
    localStorage.setItem(STORAGE[kind], deviceId);
  } catch {
    /* storage may be off; the choice then lasts for this page only */
  }
}

/**
 * A device of `kind`: the given one if `exact`, else preferably the remembered one.
 * @param {DeviceKind} kind
 * @param {string | null} deviceId
 * @param {boolean} exact
 * @returns {MediaTrackConstraints}
 */
export function constraintsFor(kind, deviceId, exact) {
  /** @type {MediaTrackConstraints} */
  const base = kind === 'videoinput' ? { width: { ideal: 640 }, height: { ideal: 480 } } : {};
  if (!deviceId) return base;
  return { ...base, deviceId: exact ? { exact: deviceId } : { ideal: deviceId } };
}

export class SelfView {
  /** @type {MediaStream | null} */
  stream = null;
  /** @type {((problem: MediaProblem) => void) | null} the devices could not be used */
  onproblem = null;

  /**
   * @param {HTMLVideoElement} video
   * @param {HTMLSelectElement} cameraSelect
   * @param {HTMLSelectElement} microphoneSelect
   * @param {(number: number) => string} unnamed label of a device the browser gives no name
   */
  constructor(video, cameraSelect, microphoneSelect, unnamed) {
    this.video = video;
    this.selects = { videoinput: cameraSelect, audioinput: microphoneSelect };
    this.unnamed = unnamed;
    cameraSelect.addEventListener('change', () => this.#choose('videoinput'));
    microphoneSelect.addEventListener('change', () => this.#choose('audioinput'));
    navigator.mediaDevices?.addEventListener('devicechange', () => this.#listDevices());
  }

  /** Ask for camera and microphone and show the picture. */
  async start() {
    if (!navigator.mediaDevices?.getUserMedia) {
      this.onproblem?.('failed');
      return;
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        video: constraintsFor('videoinput', remembered('videoinput'), false),
        audio: constraintsFor('audioinput', remembered('audioinput'), false),
      });
    } catch (error) {
      this.onproblem?.(problemOf(error));
      return;
    }
    this.video.srcObject = this.stream;
    await this.#listDevices();
  }

  /** Release camera and microphone (another window holds the waiting room now). */
  stop() {
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    this.video.srcObject = null;
    for (const select of Object.values(this.selects)) select.disabled = true;
  }

  async #listDevices() {
    if (!this.stream) return;
    const devices = await navigator.mediaDevices.enumerateDevices();
    for (const kind of /** @type {DeviceKind[]} */ (['videoinput', 'audioinput'])) {
      const select = this.selects[kind];
      const inUse = this.#track(kind)?.getSettings().deviceId;
      const options = devices
        .filter((device) => device.kind === kind && device.deviceId)
        .map((device, index) => {
          const option = new Option(device.label || this.unnamed(index + 1), device.deviceId);
          option.selected = device.deviceId === inUse;
          return option;
        });
      select.replaceChildren(...options);
      select.disabled = options.length < 2;
    }
  }

  /** @param {DeviceKind} kind @returns {MediaStreamTrack | undefined} */
  #track(kind) {
    const tracks =
      kind === 'videoinput' ? this.stream?.getVideoTracks() : this.stream?.getAudioTracks();
    return tracks?.[0];
  }

  /** Apply the device chosen in the select of `kind`. @param {DeviceKind} kind */
  async #choose(kind) {
    const stream = this.stream;
    const deviceId = this.selects[kind].value;
    if (!stream || !deviceId) return;
    const constraints = constraintsFor(kind, deviceId, true);
    let fresh;
    try {
      fresh = await navigator.mediaDevices.getUserMedia(
        kind === 'videoinput' ? { video: constraints } : { audio: constraints },
      );
    } catch (error) {
      this.onproblem?.(problemOf(error));
      await this.#listDevices();
      return;
    }
    const old = this.#track(kind);
    if (old) {
      stream.removeTrack(old);
      old.stop();
    }
    stream.addTrack(fresh.getTracks()[0]);
    this.video.srcObject = stream;
    remember(kind, deviceId);
  }
}
