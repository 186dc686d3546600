// @ts-check
/**
 * Your own picture in the call: a small tile in a corner of the stage (call.css
 * places it by `data-corner`). It moves to another corner by its button (the
 * next corner, clockwise), by keyboard through that button, or by dragging it
 * with a finger or the mouse — it lands in the corner nearest to where it was
 * let go. The bar's "Eigenes Bild" button hides and shows it; the corner and
 * the choice to hide are remembered on this device for the next call.
 */

import { make } from './dom.js';

/** @typedef {'top-left'|'top-right'|'bottom-right'|'bottom-left'} Corner */

/** @type {Corner[]} clockwise, so the button walks round the stage */
const CORNERS = ['bottom-right', 'bottom-left', 'top-left', 'top-right'];
const CORNER_KEY = 'vt-self-corner';
const HIDDEN_KEY = 'vt-self-hidden';
/** A press that moves less than this is a tap, not a drag (CSS pixels). */
const DRAG_THRESHOLD = 8;

/** @param {string} key @returns {string | null} */
function remembered(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage blocked: every call starts with the defaults
  }
}

/** @param {string} key @param {string} value */
function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    /* storage blocked: the choice lasts for this page only */
  }
}

/** @param {string | null} value @returns {value is Corner} */
function isCorner(value) {
  return CORNERS.includes(/** @type {Corner} */ (value));
}

export class SelfTile {
  /**
   * @param {HTMLElement} tile the self tile's root
   * @param {HTMLElement} stage the area it moves in
   * @param {HTMLButtonElement} toggle the bar's "Eigenes Bild" (pressed: shown)
   * @param {{label: string, moved: (corner: Corner) => void}} options
   */
  constructor(tile, stage, toggle, options) {
    this.tile = tile;
    this.stage = stage;
    this.toggle = toggle;
    this.options = options;
    tile.classList.add('tile--self');
    const saved = remembered(CORNER_KEY);
    /** @type {Corner} */
    this.corner = isCorner(saved) ? saved : 'bottom-right';
    tile.dataset.corner = this.corner;
    this.move = /** @type {HTMLButtonElement} */ (make('button', 'tile__move'));
    this.move.type = 'button';
    this.move.setAttribute('aria-label', options.label);
    this.move.title = options.label;
    this.move.insertAdjacentHTML(
      'afterbegin',
      '<svg class="call-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">' +
        '<path d="M10 4H4v6h2V7.41l4.29 4.3 1.42-1.42L7.41 6H10V4zm10 10h-2v2.59l-4.29-4.3-1.42 1.42L16.59 18H14v2h6v-6z"/></svg>',
    );
    tile.append(this.move);
    this.move.addEventListener('click', () => this.#place(CORNERS[(CORNERS.indexOf(this.corner) + 1) % 4]));
    toggle.addEventListener('click', () => this.#show(tile.hidden));
    this.#show(remembered(HIDDEN_KEY) !== 'true');
    this.#dragging();
  }

  /** @param {boolean} shown */
  #show(shown) {
    this.tile.hidden = !shown;
    this.toggle.setAttribute('aria-pressed', String(shown));
    remember(HIDDEN_KEY, String(!shown));
  }

  /** @param {Corner} corner */
  #place(corner) {
    this.corner = corner;
    this.tile.dataset.corner = corner;
    remember(CORNER_KEY, corner);
    this.options.moved(corner);
  }

  /** Drag with a finger or the mouse; on release, snap to the nearest corner. */
  #dragging() {
    const { tile, stage } = this;
    /** @type {{id: number, x: number, y: number, moved: boolean} | null} */
    let press = null;
    tile.addEventListener('pointerdown', (event) => {
      if (event.target instanceof Element && event.target.closest('button')) return;
      if (stage.dataset.alone === 'true') return;
      press = { id: event.pointerId, x: event.clientX, y: event.clientY, moved: false };
      tile.setPointerCapture(event.pointerId);
    });
    tile.addEventListener('pointermove', (event) => {
      if (!press || event.pointerId !== press.id) return;
      const dx = event.clientX - press.x;
      const dy = event.clientY - press.y;
      if (!press.moved && Math.hypot(dx, dy) < DRAG_THRESHOLD) return;
      press.moved = true;
      tile.dataset.dragging = 'true';
      tile.style.translate = `${dx}px ${dy}px`;
    });
    const release = (/** @type {PointerEvent} */ event) => {
      if (!press || event.pointerId !== press.id) return;
      const moved = press.moved;
      press = null;
      delete tile.dataset.dragging;
      tile.style.translate = '';
      if (!moved) return;
      const area = stage.getBoundingClientRect();
      const top = event.clientY < area.top + area.height / 2;
      const left = event.clientX < area.left + area.width / 2;
      this.#place(/** @type {Corner} */ (`${top ? 'top' : 'bottom'}-${left ? 'left' : 'right'}`));
    };
    tile.addEventListener('pointerup', release);
    tile.addEventListener('pointercancel', release);
  }
}
