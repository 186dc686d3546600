// @ts-check
/**
 * The call's panels (chat, participants, devices, the page's own): each opens
 * from its bar button (`aria-controls`, `aria-expanded`) and closes by that
 * button, its own "Schließen" (`data-close`) or Escape inside it — the focus
 * then goes back to the bar. At most one ordinary panel is open; a panel marked
 * `data-pinned` (the advisor's waiting list) stays open beside it. The call
 * root's `data-panels` tells the stylesheet which are open (call.css places
 * them beside the stage or over it).
 */

export class Panels {
  /** @type {Set<string>} */
  #open = new Set();

  /**
   * @param {HTMLElement} root the call view
   * @param {(id: string) => void} onopen a panel was opened
   */
  constructor(root, onopen) {
    this.root = root;
    this.onopen = onopen;
    for (const toggle of this.#toggles()) {
      if (toggle.getAttribute('aria-expanded') === 'true') this.#open.add(this.#idOf(toggle));
      toggle.addEventListener('click', () => this.#toggle(this.#idOf(toggle)));
    }
    for (const close of root.querySelectorAll('[data-close]')) {
      close.addEventListener('click', () => this.close(close.getAttribute('data-close') || '', true));
    }
    root.addEventListener('keydown', (event) => {
      const panel = event.target instanceof Element ? event.target.closest('.call-panel') : null;
      if (event.key === 'Escape' && panel) this.close(panel.id, true);
    });
    this.#sync();
  }

  /** @param {string} id */
  isOpen(id) {
    return this.#open.has(id);
  }

  /** Close a panel; with `refocus`, the focus goes back to its button.
   * @param {string} id @param {boolean} refocus */
  close(id, refocus) {
    if (!this.#open.delete(id)) return;
    this.#sync();
    const toggle = this.root.querySelector(`[aria-controls="${id}"]`);
    if (refocus && toggle instanceof HTMLElement) toggle.focus();
  }

  /** @param {string} id */
  #toggle(id) {
    if (this.#open.has(id)) {
      this.close(id, false);
      return;
    }
    if (!this.#pinned(id)) {
      for (const other of [...this.#open]) if (!this.#pinned(other)) this.#open.delete(other);
    }
    this.#open.add(id);
    this.#sync();
    this.onopen(id);
  }

  /** Buttons, panels and the stylesheet follow the open set. */
  #sync() {
    for (const toggle of this.#toggles()) {
      const id = this.#idOf(toggle);
      toggle.setAttribute('aria-expanded', String(this.#open.has(id)));
      const panel = document.getElementById(id);
      if (panel) panel.hidden = !this.#open.has(id);
    }
    this.root.dataset.panels = [...this.#open].join(' ');
  }

  #toggles() {
    return /** @type {HTMLButtonElement[]} */ ([...this.root.querySelectorAll('[aria-controls][aria-expanded]')]);
  }

  /** @param {Element} toggle */
  #idOf(toggle) {
    return toggle.getAttribute('aria-controls') || '';
  }

  /** @param {string} id */
  #pinned(id) {
    return document.getElementById(id)?.hasAttribute('data-pinned') ?? false;
  }
}
