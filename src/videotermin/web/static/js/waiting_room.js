// @ts-check
/**
 * The citizen's waiting room page: self-view, device choice, the advisor's
 * message, and the connection that keeps the citizen's place. When the
 * advisor admits the citizen, the same page and connection become the call
 * (call.js, call_ui.js): camera and microphone are handed over, nobody is
 * asked again. After the call: hanging up leads to the survey, the end of the
 * call for everyone to the link's page (which says the appointment is over
 * and offers the survey), removal to a page that leads back to the waiting
 * room. A reload during the call rejoins it: the server admits again.
 *
 * Texts come from the page (translated by the server, in #waiting-config), so
 * this module holds no language. The link's address is taken from the page's
 * own path (/v/<token>/warteraum), never written into the page.
 */
import { PROTOCOL_VERSION } from './constants.js';
import { ServerConnection, socketUrl } from './protocol.js';
import { SelfView } from './self_view.js';
import { Call } from './call.js';
import { LocalMedia } from './local_media.js';
import { CallView } from './call_ui.js';

/**
 * @typedef {object} PageConfig
 * @property {string} lang
 * @property {string} zone IANA time zone of the unit
 * @property {string} name the participant's own name, or '' (the call then names them by their role)
 * @property {string} role
 * @property {Record<string, string>} texts
 * @property {Record<string, string>} call_texts
 */

/** @typedef {import('./messages.js').WaitingMessageText} WaitingMessageText */

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
const waitingView = element('waiting-view');
const removedView = element('call-removed');
const waitingTitle = document.title;
/** @type {import('./call.js').CallEnd | null} the call ended here for this reason; the close that follows leads on */
let callEnd = null;
/** Hanging up waits for the server's close (so the leave is surely sent), but not forever. */
const LEAVE_WAIT_MS = 3000;

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
  if (status === 'closed') return;
  const away = status !== 'open' && connection.unavailable;
  connectionState.textContent = away ? texts.unavailable : texts[status];
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

/** @param {import('./messages.js').CitizenWelcome | import('./messages.js').StaffWelcome} welcome */
function welcomed(welcome) {
  if (welcome.role === 'citizen') showMessage(welcome.message);
}

/** @param {import('./messages.js').AdvisorMessage} message */
function advisorMessage(message) {
  showMessage(message.message);
}

/**
 * The connection ended for good: release the devices unless the citizen may
 * take the waiting room back into this window; after a call, lead on.
 * @param {number} _code
 * @param {string} reason
 */
function closed(_code, reason) {
  call.close();
  callView.hide();
  if (reason !== 'replaced') selfView.stop();
  if (callEnd === 'left' || reason === 'left') {
    location.assign(`${hubPath}/umfrage`);
  } else if (callEnd === 'ended') {
    location.assign(hubPath);
  } else if (callEnd === 'removed' || reason === 'removed') {
    showRemoved();
  } else {
    waitingView.hidden = false;
    document.title = waitingTitle;
    showEnd(reason);
  }
}

function showRemoved() {
  waitingView.hidden = true;
  removedView.hidden = false;
  document.title = waitingTitle;
  removedView.focus();
}

function resume() {
  ended.hidden = true;
  mediaProblem.hidden = true;
  callEnd = null;
  media.adopt(selfView.start().then(() => selfView.stream));
  connection.connect();
}

function admitted() {
  callEnd = null;
  waitingView.hidden = true;
  ended.hidden = true;
  document.title = `${texts.call_title} – ${waitingTitle.split(' – ').slice(1).join(' – ')}`;
  callView.show();
}

/** @param {import('./call.js').CallEnd} reason */
function callEnded(reason) {
  callEnd = reason;
  callView.hide();
  if (reason === 'removed') showRemoved();
  if (reason === 'left') setTimeout(() => location.assign(`${hubPath}/umfrage`), LEAVE_WAIT_MS);
}

const connection = new ServerConnection(socketUrl(`/ws${hubPath}`), {
  type: 'hello',
  version: PROTOCOL_VERSION,
  role: 'citizen',
});
const media = new LocalMedia(selfView.start().then(() => selfView.stream));
const call = new Call(connection, media);
const callView = new CallView(element('call'), call, media, {
  lang: config.lang,
  zone: config.zone,
  texts: config.call_texts,
  selfName: config.name,
  selfRole: config.role,
  onhangup: () => call.hangUp(),
  help: /** @type {HTMLElement | null} */ (document.querySelector('section[aria-labelledby="kontakt"]')),
});
call.onadmitted = admitted;
call.onend = callEnded;

selfView.onproblem = showMediaProblem;
connection.onstatus = (/** @type {import('./protocol.js').ConnectionStatus} */ status) => {
  showStatus(status);
  if (call.active) callView.renderStatus(status);
};
connection.onwelcome = welcomed;
connection.onadvisormessage = advisorMessage;
connection.onreplaced = () => {
  call.close();
  callView.hide();
  waitingView.hidden = false;
  selfView.stop();
};
connection.onclose = closed;

hubLink.href = hubPath;
resumeButton.addEventListener('click', resume);
window.addEventListener('online', () => connection.reconnectNow());

connection.connect();
