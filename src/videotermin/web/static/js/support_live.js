// @ts-check
/**
 * The support desk's live view of one participant.
 *
 * The details are rendered by the server (the page's own template macro) and
 * swapped in whole whenever the participant changes, so what the supporter sees
 * is what a reload would show. The status line says whether the view is live.
 */
import { PROTOCOL_VERSION } from './constants.js';
import { ServerConnection, socketUrl } from './protocol.js';

/** @param {string} id @returns {HTMLElement} */
function element(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing`);
  return found;
}

const details = element('support-details');
const state = element('support-live-state');

/** @type {Record<import('./protocol.js').ConnectionStatus, string>} */
const STATUS_TEXTS = {
  connecting: 'Verbindung wird aufgebaut …',
  open: 'Diese Ansicht aktualisiert sich selbst, solange sie offen ist.',
  reconnecting: 'Verbindung unterbrochen, wird wiederhergestellt … Die Angaben können veraltet sein.',
  closed: 'Diese Ansicht aktualisiert sich nicht mehr. Bitte laden Sie die Seite neu.',
};

/** @param {import('./protocol.js').ConnectionStatus} status */
function showStatus(status) {
  state.dataset.state = status;
  state.textContent = STATUS_TEXTS[status];
}

const connection = new ServerConnection(socketUrl('/ws/support'), {
  type: 'hello',
  version: PROTOCOL_VERSION,
  role: 'support',
  participant: details.dataset.participantId || '',
});
connection.onstatus = showStatus;
connection.on('support', (message) => {
  const template = document.createElement('template');
  template.innerHTML = message.html;
  details.replaceChildren(template.content);
  details.dataset.problem = String(message.problem);
});
window.addEventListener('online', () => connection.reconnectNow());
connection.connect();
