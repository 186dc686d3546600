// @ts-check
/**
 * The advisor's call page: the live waiting list ("Abholen", "Alle abholen"),
 * the call (call.js, call_ui.js), "Entfernen" and "Gespräch für alle beenden".
 *
 * The advisor's socket is /ws/call/<appointment id>; the server answers the
 * hello with `admitted` (the advisor is always in their own call) and
 * `waiting`, and authorises every admit, remove and end again. A page opened
 * with `?admit=<participant id>` (the "Abholen" link of the appointment page)
 * admits that person once — after the first waiting list arrived — and drops
 * the query, so a reload admits nobody. Texts come from #call-config.
 */
import { CLOSE_CODES, ERROR_CODES, PROTOCOL_VERSION } from './constants.js';
import { ServerConnection, socketUrl, turnedAway } from './protocol.js';
import { Call } from './call.js';
import { LocalMedia } from './local_media.js';
import { CallView } from './call_ui.js';
import { refillKeepingFocus } from './live_html.js';

/**
 * @typedef {object} PageConfig
 * @property {string} appointment
 * @property {string} lang
 * @property {string} zone
 * @property {string} name
 * @property {string} admit participant id to admit at once, or ''
 * @property {Record<string, string>} texts
 * @property {Record<string, string>} call_texts
 */

/** @param {string} id @returns {HTMLElement} */
function element(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing`);
  return found;
}

/** @type {PageConfig} */
const config = JSON.parse(element('call-config').textContent || '{}');
const texts = config.texts;
const summary = element('waiting-summary');
const list = element('waiting-list');
const admitAll = /** @type {HTMLButtonElement} */ (element('admit-all'));
const notice = element('call-notice');
const waitingCount = element('waiting-count');
/** Narrow screens show panels over the call (call.css): there the waiting list gives way
 * once the last person waiting has been picked up. */
const narrow = window.matchMedia('(max-width: 56.24em), (orientation: landscape) and (max-height: 31.25em)');
let waitedBefore = 0;
const closedBox = element('call-closed');
const closedText = element('call-closed-text');
const rejoin = /** @type {HTMLButtonElement} */ (element('call-rejoin'));
const endButton = /** @type {HTMLButtonElement} */ (element('end-call'));
const dialog = /** @type {HTMLDialogElement} */ (element('confirm'));
const dialogText = element('confirm-text');
const dialogYes = /** @type {HTMLButtonElement} */ (element('confirm-yes'));
const dialogNo = /** @type {HTMLButtonElement} */ (element('confirm-no'));

let pendingAdmit = config.admit;
let maxParticipants = 0;

/** @param {string} key @param {Record<string, string>} [values] */
function text(key, values = {}) {
  let result = texts[key] ?? key;
  for (const [name, value] of Object.entries(values)) result = result.replace(`{${name}}`, value);
  return result;
}

/** @param {string} iso */
function clock(iso) {
  return new Intl.DateTimeFormat(config.lang === 'de' ? 'de-DE' : 'en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    timeZone: config.zone,
  }).format(new Date(iso));
}

/** @param {string} message */
function showNotice(message) {
  notice.textContent = message;
  notice.hidden = false;
}

/**
 * Ask before something that cannot be undone; a real modal dialog, keyboard operable.
 * @param {string} question
 * @param {string} yes
 * @returns {Promise<boolean>}
 */
function confirmAction(question, yes) {
  dialogText.textContent = question;
  dialogYes.textContent = yes;
  dialog.showModal();
  dialogNo.focus();
  return new Promise((resolve) => {
    /** @param {boolean} answer */
    const done = (answer) => {
      dialogYes.removeEventListener('click', onYes);
      dialogNo.removeEventListener('click', onNo);
      dialog.removeEventListener('cancel', onNo);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const onYes = () => done(true);
    const onNo = () => done(false);
    dialogYes.addEventListener('click', onYes);
    dialogNo.addEventListener('click', onNo);
    dialog.addEventListener('cancel', onNo);
  });
}

/** @param {string} participant a participant id or 'all' */
function admit(participant) {
  notice.hidden = true;
  connection.send('admit', { participant });
}

/** @param {import('./messages.js').WaitingMessage} message */
function renderWaiting(message) {
  const people = message.participants;
  const items = people.map((person) => {
    const item = document.createElement('li');
    item.className = 'call-waiting__person';
    item.dataset.participantId = person.id;
    const who = document.createElement('span');
    who.className = 'call-waiting__name';
    who.textContent = view.nameOf(person);
    const details = document.createElement('span');
    details.className = 'call-waiting__details';
    const role = person.name ? ` (${view.roleLabel(person.role)})` : '';
    details.textContent = `${role} – ${text('since', { time: clock(person.since) })} – ${text(`verdict_${person.verdict ?? 'none'}`)}`;
    const button = document.createElement('button');
    button.type = 'button';
    button.id = `admit-${person.id}`; // found again when the list is built anew (live_html.js)
    button.className = 'call-waiting__admit';
    button.textContent = text('admit');
    button.setAttribute('aria-label', `${text('admit')}: ${who.textContent}`);
    button.addEventListener('click', () => admit(person.id));
    item.append(who, details, ' ', button);
    return item;
  });
  refillKeepingFocus(list, items);
  admitAll.disabled = people.length === 0;
  call.prepare(people.length > 0);
  waitingCount.textContent = String(people.length);
  waitingCount.hidden = people.length === 0;
  const open = view.panels.isOpen('call-waiting');
  if (people.length === 0 && waitedBefore > 0 && narrow.matches && open) {
    view.panels.close('call-waiting', false);
  }
  waitedBefore = people.length;
  const before = summary.textContent;
  summary.textContent =
    people.length === 0
      ? text('none_waiting')
      : people.length === 1
        ? text('one_waiting')
        : text('many_waiting', { count: String(people.length) });
  // The list is read out by its live region while open; collapsed, the call says it.
  if (!open && people.length > 0 && summary.textContent !== before) view.announce(summary.textContent);
  if (pendingAdmit) {
    const target = pendingAdmit;
    pendingAdmit = '';
    history.replaceState(null, '', location.pathname);
    admit(target);
  }
}

/**
 * The server refused what the advisor did. `unavailable` (its database or Redis is down
 * for a moment) refused only that: the call goes on, and the advisor may try again. When
 * it turned the connection itself away, the call's status line says so (call_ui.js) and
 * the page reconnects by itself.
 * @param {import('./messages.js').ErrorMessage} error
 */
function refused(error) {
  if (turnedAway(error)) return;
  /** @type {string[]} */
  const known = [
    ERROR_CODES.CALL_FULL,
    ERROR_CODES.NOT_WAITING,
    ERROR_CODES.UNKNOWN_PEER,
    ERROR_CODES.UNAVAILABLE,
  ];
  const key = known.includes(error.code) ? `error_${error.code}` : 'error_other';
  showNotice(text(key, { count: String(maxParticipants) }));
}

/** @param {number} code @param {string} reason */
function closed(code, reason) {
  call.close();
  view.hide();
  const keys = /** @type {Record<string, string>} */ ({
    left: 'closed_left',
    ended: 'closed_ended',
    replaced: 'closed_replaced',
    cancelled: 'closed_cancelled',
  });
  const denied = code === CLOSE_CODES.LOGIN_REQUIRED || code === CLOSE_CODES.FORBIDDEN;
  const key = keys[reason] ?? (denied ? 'closed_refused' : 'closed_other');
  closedText.textContent = text(key);
  rejoin.hidden = !(reason === 'left' || reason === 'replaced');
  endButton.disabled = true;
  admitAll.disabled = true;
  list.replaceChildren();
  closedBox.hidden = false;
  closedBox.focus();
}

const connection = new ServerConnection(socketUrl(`/ws/call/${config.appointment}`), {
  type: 'hello',
  version: PROTOCOL_VERSION,
});
const media = new LocalMedia();
const call = new Call(connection, media);
const view = new CallView(element('call'), call, media, {
  lang: config.lang,
  zone: config.zone,
  texts: config.call_texts,
  selfName: config.name,
  selfRole: 'advisor',
  onhangup: () => call.hangUp(),
  onremove: async (peer) => {
    const question = text('confirm_remove', { name: view.nameOf(peer.info) });
    if (await confirmAction(question, text('confirm_remove_yes'))) {
      connection.send('remove', { participant: peer.id });
    }
  },
});

call.onadmitted = () => {
  maxParticipants = call.maxParticipants;
  closedBox.hidden = true;
  endButton.disabled = false;
  view.show();
};
connection.onstatus = (/** @type {import('./protocol.js').ConnectionStatus} */ status) => {
  if (call.active) view.renderStatus(status);
};
connection.on('waiting', renderWaiting);
connection.on('error', refused);
connection.onclose = closed;

admitAll.addEventListener('click', () => admit('all'));
endButton.addEventListener('click', async () => {
  if (await confirmAction(text('confirm_end'), text('confirm_end_yes'))) {
    connection.send('end', {});
  }
});
rejoin.addEventListener('click', () => location.reload());
window.addEventListener('online', () => connection.reconnectNow());

connection.connect();
