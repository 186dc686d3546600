// @ts-check
/**
 * The support desk's live view of one participant.
 *
 * The details are rendered by the server (the page's own template macro) and
 * swapped in whole whenever the participant changes, so what the supporter sees
 * is what a reload would show. The status line says whether the view is live, in the
 * words the page put in its data-text-* attributes.
 */
import { PROTOCOL_VERSION } from './constants.js';
import { fillKeepingFocus } from './live_html.js';
import { ServerConnection, socketUrl } from './protocol.js';

/** @param {string} id @returns {HTMLElement} */
function element(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing`);
  return found;
}

const details = element('support-details');
const state = element('support-live-state');

/**
 * The status line's data attribute holding the words for each connection status
 * (rendered by the server in the page's language).
 * @type {Record<import('./protocol.js').ConnectionStatus, string>}
 */
const STATUS_TEXTS = {
  connecting: 'textConnecting',
  open: 'textOpen',
  reconnecting: 'textReconnecting',
  closed: 'textClosed',
};

/** @param {import('./protocol.js').ConnectionStatus} status */
function showStatus(status) {
  state.dataset.state = status;
  state.textContent = state.dataset[STATUS_TEXTS[status]] || status;
}

const connection = new ServerConnection(socketUrl('/ws/support'), {
  type: 'hello',
  version: PROTOCOL_VERSION,
  role: 'support',
  participant: details.dataset.participantId || '',
});
connection.onstatus = showStatus;
let shown = '';
connection.on('support', (message) => {
  if (message.html !== shown) fillKeepingFocus(details, message.html);
  shown = message.html;
  details.dataset.problem = String(message.problem);
});
window.addEventListener('online', () => connection.reconnectNow());
connection.connect();
