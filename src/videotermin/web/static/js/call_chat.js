// @ts-check
/**
 * The call's chat panel (part of the call view, call_ui.js): the lines
 * everyone wrote, the form to write one, and the unread count on the chat
 * button while the panel is closed. Lines are set as text, never as HTML.
 *
 * A line sent is taken from the text field at once, but it stays the participant's
 * until it comes back from the server, as it does to everyone: if the server
 * refuses it (its Redis cannot be reached for a moment), or it does not come back
 * within ECHO_MS (lost on the way), it returns to the text field with a notice, so
 * nothing typed is lost. Should it come back after all, the field lets it go.
 */

import { MAX_CHAT } from './constants.js';
import { find, make } from './dom.js';

/**
 * @typedef {import('./call.js').Call} Call
 * @typedef {import('./messages.js').ChatFromMessage} ChatFromMessage
 *
 * @typedef {object} ChatOptions
 * @property {string} lang
 * @property {string} zone IANA time zone for chat times
 * @property {(key: string, values?: Record<string, string>) => string} text the page's texts
 * @property {(person: {name: string, role: string}) => string} nameOf what the page calls the sender
 * @property {(message: string) => void} announce tell screen readers
 */

/** How long a sent line may take to come back before it is given back (a line comes
 * back within a round trip; the server answers a refusal at once). */
const ECHO_MS = 8000;

/**
 * @typedef {object} SentLine
 * @property {string} text
 * @property {ReturnType<typeof setTimeout>} timer gives it back when it does not return
 * @property {boolean} givenBack it is in the text field again
 */

export class ChatPanel {
  #unread = 0;
  /** @type {SentLine[]} lines sent and not yet back from the server, oldest first */
  #unconfirmed = [];

  /**
   * @param {HTMLElement} root the `call_view` markup
   * @param {Call} call
   * @param {ChatOptions} options
   */
  constructor(root, call, options) {
    this.call = call;
    this.options = options;
    this.log = find(root, '.call-chat__log');
    this.form = /** @type {HTMLFormElement} */ (find(root, '.call-chat__form'));
    this.input = /** @type {HTMLTextAreaElement} */ (find(root, '.call-chat__text'));
    this.problem = find(root, '.call-chat__problem');
    this.badge = find(root, '.call-unread');
    call.onchat = (message) => this.add(message);
    call.connection.on('error', (/** @type {import('./messages.js').ErrorMessage} */ error) => {
      if (error.ref === 'chat') this.#refused();
    });
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#send();
    });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.#send();
      }
    });
  }

  /** The panel was opened: everything is read now, and the focus goes to the text. */
  opened() {
    this.#unread = 0;
    this.#renderUnread();
    this.input.focus();
  }

  /** @param {ChatFromMessage} message */
  add(message) {
    const { text, nameOf } = this.options;
    const own = message.from === this.call.self;
    if (own) this.#confirmed(message.text);
    const item = make('li', own ? 'call-chat__line call-chat__line--own' : 'call-chat__line');
    const head = make('p', 'call-chat__head');
    const who = make('span', 'call-chat__who', own ? text('you') : nameOf(message));
    const time = /** @type {HTMLTimeElement} */ (make('time', 'call-chat__time', this.#clock(message.at)));
    time.dateTime = message.at;
    head.append(who, ' · ', time);
    item.append(head, make('p', 'call-chat__text-line', message.text));
    this.log.append(item);
    this.log.scrollTop = this.log.scrollHeight;
    const panel = this.log.closest('.call-chat');
    if (!own && panel instanceof HTMLElement && panel.hidden) {
      this.#unread += 1;
      this.#renderUnread();
      this.options.announce(text('chat_new', { name: nameOf(message) }));
    }
  }

  #send() {
    const { text } = this.options;
    const line = this.input.value.trim();
    this.problem.hidden = true;
    if (!line) return;
    if (line.length > MAX_CHAT) {
      this.#showProblem(text('chat_too_long'));
      return;
    }
    if (!this.call.sendChat(line)) {
      this.#showProblem(text('chat_failed'));
      return;
    }
    /** @type {SentLine} */
    const sent = { text: line, timer: setTimeout(() => this.#giveBack(sent), ECHO_MS), givenBack: false };
    this.#unconfirmed.push(sent);
    this.input.value = '';
  }

  /** The server refused a line: the newest on its way (a refusal comes back at once,
   * while an accepted line comes back only through the bus). */
  #refused() {
    const waiting = this.#unconfirmed.filter((line) => !line.givenBack);
    if (waiting.length) this.#giveBack(waiting[waiting.length - 1]);
  }

  /** A line that did not go out goes back into the field, before whatever was typed since.
   * @param {SentLine} sent */
  #giveBack(sent) {
    clearTimeout(sent.timer);
    sent.givenBack = true;
    const typed = this.input.value.trim();
    this.input.value = typed ? `${sent.text}\n${typed}` : sent.text;
    this.#showProblem(this.options.text('chat_failed'));
  }

  /** One of ours came back: it went out. Given back too early, it leaves the field again
   * (unless the participant has changed the text since).
   * @param {string} text */
  #confirmed(text) {
    const index = this.#unconfirmed.findIndex((line) => line.text === text);
    if (index < 0) return;
    const [sent] = this.#unconfirmed.splice(index, 1);
    clearTimeout(sent.timer);
    if (sent.givenBack && this.input.value.trim() === sent.text) {
      this.input.value = '';
      this.problem.hidden = true;
    }
  }

  /** @param {string} message */
  #showProblem(message) {
    this.problem.textContent = message;
    this.problem.hidden = false;
  }

  #renderUnread() {
    this.badge.textContent = this.#unread ? String(this.#unread) : '';
    this.badge.hidden = this.#unread === 0;
  }

  /** @param {string} iso */
  #clock(iso) {
    const german = this.options.lang === 'de';
    return new Intl.DateTimeFormat(german ? 'de-DE' : 'en-GB', {
      hour: '2-digit',
      minute: '2-digit',
      timeZone: this.options.zone,
    }).format(new Date(iso));
  }
}
