// @ts-check
/**
 * The tiles of the call view (call_ui.js): one participant's picture, name,
 * state and — for the others — voice. Remote audio plays through its own
 * <audio> element, the picture through a muted <video>: hiding a picture
 * (camera off) never silences the voice, and a stream is attached only while
 * it is to be shown, so no frozen last frame can stay on screen.
 */

import { make } from './dom.js';

/** @param {string} name */
function initials(name) {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0], parts[parts.length - 1]] : parts;
  return letters.map((part) => [...part][0] ?? '').join('').toUpperCase() || '?';
}

/**
 * Show a stream in a media element, or nothing (a detached element keeps no frame).
 * @param {HTMLMediaElement} element @param {MediaStream | null} stream */
function attach(element, stream) {
  if (element.srcObject !== stream) {
    element.srcObject = stream;
    if (stream) element.play().catch(() => {});
  }
}

/** One participant's picture, name and state. */
export class Tile {
  /**
   * @param {string} key
   * @param {boolean} mirrored own camera: shown like a mirror
   * @param {boolean} withAudio remote participants: their voice
   */
  constructor(key, mirrored, withAudio) {
    this.root = /** @type {HTMLElement} */ (make('figure', 'tile'));
    this.root.dataset.tile = key;
    this.video = /** @type {HTMLVideoElement} */ (make('video', 'tile__video'));
    this.video.muted = true;
    this.video.playsInline = true;
    this.video.classList.toggle('tile__video--mirrored', mirrored);
    this.avatar = make('div', 'tile__avatar');
    this.avatar.setAttribute('aria-hidden', 'true');
    this.overlay = make('p', 'tile__overlay');
    this.overlay.hidden = true;
    const caption = make('figcaption', 'tile__caption');
    this.name = make('span', 'tile__name');
    this.muted = make('span', 'tile__badge tile__badge--muted');
    this.muted.hidden = true;
    this.quality = make('span', 'tile__quality');
    this.quality.hidden = true;
    caption.append(this.name, this.muted, this.quality);
    this.root.append(this.video, this.avatar, this.overlay, caption);
    /** @type {HTMLAudioElement | null} */
    this.audio = null;
    if (withAudio) {
      this.audio = /** @type {HTMLAudioElement} */ (make('audio', 'tile__audio'));
      this.root.append(this.audio);
    }
  }

  /**
   * @param {{name: string, label: string, video: MediaStream | null, audio?: MediaStream | null,
   *   muted: boolean, mutedText: string, reconnecting: string | null,
   *   quality?: {grade: string, text: string} | null}} state
   */
  render(state) {
    this.name.textContent = state.label;
    this.avatar.textContent = initials(state.name);
    this.root.dataset.video = state.video ? 'on' : 'off';
    this.video.hidden = !state.video;
    attach(this.video, state.video);
    if (this.audio) attach(this.audio, state.audio ?? null);
    this.muted.hidden = !state.muted;
    this.muted.textContent = state.mutedText;
    this.overlay.hidden = !state.reconnecting;
    this.overlay.textContent = state.reconnecting ?? '';
    this.root.dataset.reconnecting = state.reconnecting ? 'true' : 'false';
    if (state.quality) {
      this.quality.hidden = false;
      this.quality.dataset.quality = state.quality.grade;
      this.quality.textContent = state.quality.text;
    }
  }

  remove() {
    attach(this.video, null);
    if (this.audio) attach(this.audio, null);
    this.root.remove();
  }
}
