// @ts-check
/** Small DOM helpers of the call view (call_ui.js, call_tiles.js, call_chat.js). */

/** @param {ParentNode} root @param {string} selector @returns {HTMLElement} */
export function find(root, selector) {
  const found = root.querySelector(selector);
  if (!(found instanceof HTMLElement)) throw new Error(`${selector} is missing`);
  return found;
}

/**
 * @param {string} tag
 * @param {string} className
 * @param {string} [text]
 */
export function make(tag, className, text) {
  const element = document.createElement(tag);
  element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}
