// @ts-check
/**
 * Swapping in HTML the server rendered again (a participant's row on the
 * advisor's pages, the support desk's view of one participant), or a list the
 * page built anew (the call page's waiting list), without taking the keyboard
 * away from the person using the page.
 *
 * Replacing an element that holds the focus drops it to the start of the page:
 * someone who tabbed to "Einladung erneut senden" would be thrown out of the
 * list whenever anything about that participant changed. So the control that
 * had the focus is found again in the new HTML by what it does — a link by its
 * address, a form's button by the form's action, any other by its id — and
 * focused; a control by position could be another one ("Abholen" appears above
 * the others when someone enters the waiting room). When that control is gone,
 * the new element itself takes the focus, so a screen reader stays where it
 * was; when the element itself goes (a participant removed), the list it was
 * in does.
 */

const FOCUSABLE = 'a[href], button, input, select, textarea, [tabindex]';

/**
 * What a control does, as far as the page's HTML tells it.
 * @param {Element} control
 * @returns {string | null}
 */
function purposeOf(control) {
  if (control instanceof HTMLAnchorElement) return `link ${control.getAttribute('href')}`;
  const form = control.closest('form');
  if (form && (control instanceof HTMLButtonElement || control instanceof HTMLInputElement)) {
    return `form ${form.getAttribute('action')} ${control.getAttribute('name') ?? ''}`;
  }
  return control.id ? `id ${control.id}` : null;
}

/**
 * Run `swap` (which puts `fresh` where `current` was, or fills `current` anew)
 * and give the focus back inside `fresh` if it was inside `current`.
 * @param {Element} current
 * @param {Element} fresh the element now shown (may be `current` itself)
 * @param {() => void} swap
 */
function keepingFocus(current, fresh, swap) {
  const had = focusWithin(current);
  const purpose = had ? purposeOf(had) : null;
  swap();
  if (!had || fresh.contains(document.activeElement)) return;
  const again = purpose
    ? [...fresh.querySelectorAll(FOCUSABLE)].find((control) => purposeOf(control) === purpose)
    : undefined;
  if (again instanceof HTMLElement) {
    again.focus({ preventScroll: true });
  } else {
    focusItself(fresh);
  }
}

/** @param {Element} element @returns {Element | null} the focused element inside it */
function focusWithin(element) {
  const active = document.activeElement;
  return active && active !== document.body && element.contains(active) ? active : null;
}

/** @param {Element | null} element */
function focusItself(element) {
  if (!(element instanceof HTMLElement)) return;
  if (!element.hasAttribute('tabindex')) element.tabIndex = -1;
  element.focus({ preventScroll: true });
}

/**
 * Put `fresh` in the place of `current`, keeping the keyboard focus.
 * @param {Element} current
 * @param {Element} fresh
 */
export function replaceKeepingFocus(current, fresh) {
  keepingFocus(current, fresh, () => current.replaceWith(fresh));
}

/**
 * Fill `container` with `html`, keeping the keyboard focus.
 * @param {Element} container
 * @param {string} html
 */
export function fillKeepingFocus(container, html) {
  const template = document.createElement('template');
  template.innerHTML = html;
  refillKeepingFocus(container, [template.content]);
}

/**
 * Replace the children of `container` with `nodes`, keeping the keyboard focus.
 * @param {Element} container
 * @param {Node[]} nodes
 */
export function refillKeepingFocus(container, nodes) {
  keepingFocus(container, container, () => container.replaceChildren(...nodes));
}

/**
 * Take `current` off the page; the focus it held goes to the element it was in.
 * @param {Element} current
 */
export function removeKeepingFocus(current) {
  const had = focusWithin(current);
  const parent = current.parentElement;
  current.remove();
  if (had) focusItself(parent);
}
