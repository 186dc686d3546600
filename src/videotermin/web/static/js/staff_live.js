// @ts-check
/**
 * The advisor's live list ("Meine Termine" and the appointment page).
 *
 * Rows are rendered by the server (the pages' own template macro) and swapped
 * in whole, so the page never builds a row itself; a row sent again unchanged
 * is left alone, and a changed one keeps the keyboard focus (live_html.js). When someone enters the
 * waiting room the page shows an alert (role="alert"), highlights the row
 * and plays a short tone (the call page does not load this module, so no
 * tone sounds during a call).
 * Browsers play sound only after the page was used; until then the
 * "Töne aktivieren" button says so, and any click or key unlocks the sound.
 */
import { PROTOCOL_VERSION } from './constants.js';
import { removeKeepingFocus, replaceKeepingFocus } from './live_html.js';
import { ServerConnection, socketUrl } from './protocol.js';

/** @param {string} id @returns {HTMLElement} */
function element(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing`);
  return found;
}

const panel = element('live');
const alerts = element('live-alerts');
const state = element('live-state');
const soundButton = /** @type {HTMLButtonElement} */ (element('live-sound-button'));
const soundOff = soundButton.textContent || '';

/** Participants who entered the waiting room and whose alert is still shown. */
const entered = new Set();

/** A short two-note chime through Web Audio, once the browser allows sound. */
class Chime {
  /** @type {AudioContext | null} */
  #context = null;
  played = 0;

  get ready() {
    return this.#context?.state === 'running';
  }

  /** Create or resume the audio context; works only inside a user gesture. */
  unlock() {
    this.#context ??= new AudioContext();
    return this.#context.resume();
  }

  play() {
    const context = this.#context;
    if (!context || context.state !== 'running') return false;
    const start = context.currentTime;
    for (const [offset, frequency] of [[0, 880], [0.18, 660]]) {
      const tone = context.createOscillator();
      const volume = context.createGain();
      tone.frequency.value = frequency;
      volume.gain.setValueAtTime(0.0001, start + offset);
      volume.gain.exponentialRampToValueAtTime(0.25, start + offset + 0.02);
      volume.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.16);
      tone.connect(volume).connect(context.destination);
      tone.start(start + offset);
      tone.stop(start + offset + 0.17);
    }
    this.played += 1;
    panel.dataset.tonesPlayed = String(this.played);
    return true;
  }
}

const chime = new Chime();

/** The button says whether tones will play; its place and size stay, so nothing moves. */
function showSound() {
  soundButton.disabled = chime.ready;
  soundButton.textContent = chime.ready ? panel.dataset.textSoundOn || soundOff : soundOff;
}

function unlockSound() {
  chime.unlock().then(showSound, showSound);
}

/** @param {string} participantId */
function rowOf(participantId) {
  return document.querySelector(`[data-participant-id="${CSS.escape(participantId)}"]`);
}

/** @param {string} html @returns {Element | null} */
function parseRow(html) {
  const template = document.createElement('template');
  template.innerHTML = html;
  return template.content.firstElementChild;
}

/**
 * Show the alert for someone who entered the waiting room.
 * @param {string} participantId
 * @param {string} notice
 */
function raiseAlert(participantId, notice) {
  entered.add(participantId);
  const box = document.createElement('div');
  box.className = 'live-alert';
  const text = document.createElement('p');
  text.textContent = notice;
  const dismiss = document.createElement('button');
  dismiss.type = 'button';
  dismiss.className = 'secondary';
  dismiss.textContent = panel.dataset.textDismiss || '×';
  dismiss.addEventListener('click', () => {
    entered.delete(participantId);
    rowOf(participantId)?.classList.remove('participant--entered');
    box.remove();
  });
  box.append(text, dismiss);
  alerts.append(box);
  chime.play();
  showSound();
}

/** @type {Map<string, string>} each row's HTML as last sent, so a repeat changes nothing */
const shown = new Map();

/** @param {import('./messages.js').ParticipantMessage} message */
function updateRow(message) {
  const current = rowOf(message.participant_id);
  if (!message.html) {
    shown.delete(message.participant_id);
    if (current) removeKeepingFocus(current);
    return;
  }
  if (current && shown.get(message.participant_id) === message.html) {
    if (message.entered && message.notice) raiseAlert(message.participant_id, message.notice);
    current.classList.toggle('participant--entered', entered.has(message.participant_id));
    return;
  }
  const fresh = parseRow(message.html);
  if (!fresh) return;
  shown.set(message.participant_id, message.html);
  if (current) {
    replaceKeepingFocus(current, fresh);
  } else {
    const scope = document.querySelector(
      `[data-appointment-id="${CSS.escape(message.appointment_id)}"]`,
    );
    const list = scope?.querySelector('.participants') ?? document.querySelector('.participants');
    list?.append(fresh);
  }
  if (message.entered && message.notice) raiseAlert(message.participant_id, message.notice);
  fresh.classList.toggle('participant--entered', entered.has(message.participant_id));
}

/** The panel's data attribute holding the words for each connection status. */
const STATUS_TEXTS = {
  connecting: 'textConnecting',
  open: 'textConnected',
  reconnecting: 'textReconnecting',
  closed: 'textClosed',
};

/** @param {import('./protocol.js').ConnectionStatus} status */
function showStatus(status) {
  state.dataset.state = status;
  state.textContent = panel.dataset[STATUS_TEXTS[status]] || status;
}

const watch = [
  ...new Set(
    Array.from(document.querySelectorAll('[data-appointment-id]'), (node) =>
      node instanceof HTMLElement ? node.dataset.appointmentId || '' : '',
    ).filter(Boolean),
  ),
];
const connection = new ServerConnection(socketUrl('/ws/staff'), {
  type: 'hello',
  version: PROTOCOL_VERSION,
  role: 'staff',
  watch,
  view: panel.dataset.view === 'appointment' ? 'appointment' : 'agenda',
});
connection.onstatus = showStatus;
connection.onparticipant = updateRow;

soundButton.addEventListener('click', unlockSound);
for (const gesture of ['pointerdown', 'keydown']) {
  document.addEventListener(gesture, unlockSound, { once: true, capture: true });
}
window.addEventListener('online', () => connection.reconnectNow());
connection.connect();
