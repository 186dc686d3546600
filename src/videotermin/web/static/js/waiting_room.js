// @ts-check
/**
 * The citizen's waiting room page: self-view, device choice, the advisor's
 * message, and the connection that keeps the citizen's place.
 *
 * Texts come from the page (translated by the server, in #waiting-config), so
 * this module holds no language. The link's address is taken from the page's
 * own path (/v/<token>/warteraum), never written into the page.
 */
import { ServerConnection, PROTOCOL_VERSION, socketUrl } from './protocol.js';
import { SelfView } from './self_view.js';

/**
 * @typedef {object} PageConfig
 * @property {string} lang
 * @property {string} zone IANA time zone of the unit
 * @property {Record<string, string>} texts
 */

/** @typedef {import('./protocol.js').WaitingMessageText} WaitingMessageText */

/** @param {string} id @returns {HTMLElement} */
function element(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing`);
  return found;
}

/** @type {PageConfig} */
const config = JSON.parse(element('waiting-config').textContent || '{}');
const texts = config.texts;
const hubPath = location.pathname.replace(/\/warteraum\/?$/, '');

const connectionState = element('connection-state');
const messageBox = element('advisor-message');
const ended = element('waiting-ended');
const endedText = element('waiting-ended-text');
const hubLink = /** @type {HTMLAnchorElement} */ (element('waiting-hub'));
const resumeButton = /** @type {HTMLButtonElement} */ (element('waiting-resume'));
const mediaProblem = element('media-problem');

/**
 * "09:58 Uhr" / "9:58 am" in the unit's time zone, as the server writes it.
 * @param {string} iso
 * @returns {string}
 */
function clockTime(iso) {
  const german = config.lang === 'de';
  const time = new Intl.DateTimeFormat(german ? 'de-DE' : 'en-GB', {
    hour: german ? '2-digit' : 'numeric',
    minute: '2-digit',
    hour12: !german,
    timeZone: config.zone,
  }).format(new Date(iso));
  return texts.clock.replace('{time}', time);
}

/** Show the advisor's message as text. @param {WaitingMessageText | null} message */
function showMessage(message) {
  if (!message) {
    const none = document.createElement('p');
    none.className = 'advisor-message__none';
    none.textContent = texts.no_message;
    messageBox.replaceChildren(none);
    return;
  }
  const text = document.createElement('p');
  text.className = 'advisor-message__text';
  text.textContent = message.text;
  const time = document.createElement('p');
  time.className = 'advisor-message__time';
  time.textContent = texts.sent_at.replace('{time}', clockTime(message.at));
  messageBox.replaceChildren(text, time);
}

/** @param {import('./protocol.js').ConnectionStatus} status */
function showStatus(status) {
  connectionState.dataset.state = status;
  if (status !== 'closed') connectionState.textContent = texts[status];
}

/**
 * The waiting has ended here; say why and offer the way on.
 * @param {string} reason a journey state or close reason
 */
function showEnd(reason) {
  connectionState.textContent = texts.closed;
  endedText.textContent = texts[reason] || texts.closed;
  const replaced = reason === 'replaced';
  resumeButton.hidden = !replaced;
  hubLink.hidden = replaced;
  ended.hidden = false;
  ended.focus();
}

const selfView = new SelfView(
  /** @type {HTMLVideoElement} */ (element('self-view')),
  /** @type {HTMLSelectElement} */ (element('camera')),
  /** @type {HTMLSelectElement} */ (element('microphone')),
  (number) => texts.device.replace('{number}', String(number)),
);

/** @param {import('./self_view.js').MediaProblem} problem */
function showMediaProblem(problem) {
  mediaProblem.textContent = texts[`media_${problem}`];
  mediaProblem.hidden = false;
}

/** @param {import('./protocol.js').CitizenWelcome | import('./protocol.js').StaffWelcome} welcome */
function welcomed(welcome) {
  if (welcome.role === 'citizen') showMessage(welcome.message);
}

/** @param {import('./protocol.js').AdvisorMessage} message */
function advisorMessage(message) {
  showMessage(message.message);
}

/**
 * The connection ended for good: release the devices unless the citizen may
 * take the waiting room back into this window.
 * @param {number} _code
 * @param {string} reason
 */
function closed(_code, reason) {
  if (reason !== 'replaced') selfView.stop();
  showEnd(reason);
}

function resume() {
  ended.hidden = true;
  mediaProblem.hidden = true;
  selfView.start();
  connection.connect();
}

const connection = new ServerConnection(socketUrl(`/ws${hubPath}`), {
  type: 'hello',
  version: PROTOCOL_VERSION,
  role: 'citizen',
});
selfView.onproblem = showMediaProblem;
connection.onstatus = showStatus;
connection.onwelcome = welcomed;
connection.onadvisormessage = advisorMessage;
connection.onreplaced = () => selfView.stop();
connection.onclose = closed;

hubLink.href = hubPath;
resumeButton.addEventListener('click', resume);
window.addEventListener('online', () => connection.reconnectNow());

selfView.start();
connection.connect();
