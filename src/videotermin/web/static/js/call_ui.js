// @ts-check
/**
 * The call on screen: the stage of tiles (call_tiles.js) with yourself as a
 * picture in a corner (self_tile.js), the bar of controls, and the panels —
 * chat (call_chat.js), participant list, device choice, and the page's own
 * (the citizen's help, the advisor's waiting list), one open at a time. Used
 * by the citizen's waiting room (which turns into the call) and by the
 * advisor's call page; the markup is the template macro `call_view` in
 * templates/_call.html, the layout is call.css, the texts come from the page.
 * While the call is shown it is the whole page (`body.in-call`).
 *
 * Everything other people wrote (names, chat) is set as text, never as HTML.
 * Someone without a name (never given, or erased: the server sends '') is
 * named by their role in the page's language: `nameOf` is the one place that
 * turns a person into the words the page shows.
 * A picture is shown only while its owner says the camera is on — with the
 * stream detached otherwise, so no frozen last frame can stay on screen.
 */
import { ChatPanel } from './call_chat.js';
import { Tile } from './call_tiles.js';
import { Panels } from './call_panels.js';
import { SelfTile } from './self_tile.js';
import { find, make } from './dom.js';
import { canShareScreen } from './local_media.js';

/**
 * @typedef {import('./call.js').Call} Call
 * @typedef {import('./local_media.js').LocalMedia} LocalMedia
 * @typedef {import('./remote_peer.js').RemotePeer} RemotePeer
 * @typedef {import('./local_media.js').DeviceKind} DeviceKind
 * @typedef {{name: string, role: string}} Person a name ('' when there is none) and a role
 *
 * @typedef {object} ViewOptions
 * @property {string} lang
 * @property {string} zone IANA time zone for chat times
 * @property {Record<string, string>} texts
 * @property {string} selfName your own name, or '' (you are then named by your role)
 * @property {string} selfRole
 * @property {() => void} onhangup the hang-up button was pressed
 * @property {((peer: RemotePeer) => void) | null} [onremove] advisor only: "Entfernen"
 * @property {HTMLElement | null} [help] the page's contact section, shown in the help panel
 */

export class CallView {
  /** @type {Map<string, Tile>} */
  #tiles = new Map();

  /**
   * @param {HTMLElement} root the `call_view` markup
   * @param {Call} call
   * @param {LocalMedia} media
   * @param {ViewOptions} options
   */
  constructor(root, call, media, options) {
    this.root = root;
    this.call = call;
    this.media = media;
    this.options = options;
    this.texts = options.texts;
    this.stage = find(root, '.call-stage');
    this.grid = find(root, '.call-grid');
    this.status = find(root, '.call-status');
    this.mediaProblem = find(root, '.call-media-problem');
    this.announcer = find(root, '.call-announcer');
    this.buttons = {
      microphone: /** @type {HTMLButtonElement} */ (find(root, '[data-action="microphone"]')),
      camera: /** @type {HTMLButtonElement} */ (find(root, '[data-action="camera"]')),
      screen: /** @type {HTMLButtonElement} */ (find(root, '[data-action="screen"]')),
      fullscreen: /** @type {HTMLButtonElement} */ (find(root, '[data-action="fullscreen"]')),
      selfview: /** @type {HTMLButtonElement} */ (find(root, '[data-action="selfview"]')),
      hangup: /** @type {HTMLButtonElement} */ (find(root, '[data-action="hangup"]')),
    };
    this.chat = new ChatPanel(root, call, {
      lang: options.lang,
      zone: options.zone,
      text: (key, values) => this.text(key, values),
      nameOf: (person) => this.nameOf(person),
      announce: (message) => this.announce(message),
    });
    this.participants = find(root, '.call-participants__list');
    this.selects = {
      videoinput: /** @type {HTMLSelectElement} */ (find(root, '.call-device--camera')),
      audioinput: /** @type {HTMLSelectElement} */ (find(root, '.call-device--microphone')),
    };
    this.self = new Tile('self', true, false);
    this.selfTile = new SelfTile(this.self.root, this.stage, this.buttons.selfview, {
      label: this.text('self_move'),
      moved: (corner) => this.announce(this.text('self_moved', { corner: this.text(`corner_${corner}`) })),
    });
    this.stage.append(this.self.root);
    this.helpHome = options.help ? { parent: options.help.parentElement, next: options.help.nextSibling } : null;
    this.#wire();
    this.panels = new Panels(root, (id) => {
      if (document.getElementById(id)?.classList.contains('call-chat')) this.chat.opened();
    });
  }

  /** @param {string} key @param {Record<string, string>} [values] */
  text(key, values = {}) {
    let text = this.texts[key] ?? key;
    for (const [name, value] of Object.entries(values)) text = text.replace(`{${name}}`, value);
    return text;
  }

  /** @param {string} role */
  roleLabel(role) {
    return this.texts[`role_${role}`] ?? role;
  }

  /**
   * What the page calls someone: their name, or their role when they have none.
   * @param {Person} person
   */
  nameOf(person) {
    return person.name || this.roleLabel(person.role);
  }

  /**
   * Someone's name with their role, "Ivo Ivanov (Interpreter)"; the role alone when
   * it is all the page can call them.
   * @param {Person} person
   */
  labelOf(person) {
    const role = this.roleLabel(person.role);
    return person.name ? `${person.name} (${role})` : role;
  }

  /** You, as a person the call shows. @returns {Person} */
  get me() {
    return { name: this.options.selfName, role: this.options.selfRole };
  }

  /** You, as the call names you: "Clara Kundin (you)", "Interpreter (you)". */
  get selfLabel() {
    return this.text('you_named', { name: this.nameOf(this.me) });
  }

  /** Open the call view (admitted); the focus moves to it so nobody is lost. */
  show() {
    const opening = this.root.hidden;
    this.root.hidden = false;
    document.body.classList.add('in-call');
    const help = this.root.querySelector('.call-help__content');
    if (this.options.help && help) help.append(this.options.help);
    this.renderSelf();
    this.renderParticipants();
    this.renderStatus();
    this.fillDevices();
    if (opening) find(this.root, '.call-title').focus();
  }

  #wire() {
    const { call, media } = this;
    call.onpeer = (peer) => this.renderPeer(peer);
    call.onpeerleft = (peer, reason) => {
      this.#removeTiles(peer.id);
      this.renderParticipants();
      this.announce(this.text(reason === 'removed' ? 'peer_removed' : 'peer_left', { name: this.nameOf(peer.info) }));
    };
    media.watch(() => {
      this.renderSelf();
      this.renderParticipants();
    });

    const { microphone, camera, screen, fullscreen, hangup } = this.buttons;
    microphone.addEventListener('click', () => media.setMicrophone(!media.microphoneOn));
    camera.addEventListener('click', async () => {
      camera.disabled = true;
      await media.setCamera(!media.camera);
      camera.disabled = false;
      this.renderSelf();
    });
    screen.hidden = !canShareScreen();
    screen.addEventListener('click', () => (media.screen ? media.stopScreen() : media.startScreen()));
    fullscreen.hidden = !document.fullscreenEnabled;
    fullscreen.addEventListener('click', () => {
      if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
      else this.root.requestFullscreen().catch(() => {});
    });
    document.addEventListener('fullscreenchange', () => {
      fullscreen.setAttribute('aria-pressed', String(document.fullscreenElement === this.root));
    });
    hangup.addEventListener('click', () => this.options.onhangup());


    for (const kind of /** @type {DeviceKind[]} */ (['videoinput', 'audioinput'])) {
      this.selects[kind].addEventListener('change', async () => {
        await media.useDevice(kind, this.selects[kind].value);
        this.fillDevices();
      });
    }
    navigator.mediaDevices?.addEventListener('devicechange', () => this.fillDevices());
  }

  /** Tell screen readers something that happened (joined, left, new chat line). @param {string} message */
  announce(message) {
    this.announcer.textContent = message;
  }

  /**
   * The signaling connection's state, in words; while the server turns it away for now
   * (its database or Redis is down), that is what the page says. Without `status`, the
   * connection's own (a tile or a departure changes "alone" and "in the call", never
   * what the connection is doing).
   * @param {import('./protocol.js').ConnectionStatus} [status]
   */
  renderStatus(status = this.call.connection.status) {
    this.status.dataset.state = status;
    const away = this.call.connection.unavailable;
    this.status.textContent =
      status === 'reconnecting' || status === 'connecting'
        ? this.text(away ? 'call_unavailable' : 'call_reconnecting')
        : this.text(this.call.peers.size ? 'in_call' : 'alone');
  }

  renderSelf() {
    const { media } = this;
    const state = media.state;
    this.self.render({
      name: this.nameOf(this.me),
      label: this.selfLabel,
      video: state.video ? media.stream : null,
      muted: !state.audio,
      mutedText: this.text('muted'),
      reconnecting: null,
    });
    const problem = media.lost
      ? this.text(`lost_${media.lost}`)
      : media.problem
        ? this.text(`device_${media.problem}`)
        : media.screenProblem
          ? this.text(`screen_${media.screenProblem}`)
          : '';
    if (this.mediaProblem.textContent !== problem) this.mediaProblem.textContent = problem;
    this.mediaProblem.hidden = !problem;
    this.buttons.microphone.setAttribute('aria-pressed', String(!state.audio));
    this.buttons.microphone.disabled = !media.microphone;
    this.buttons.camera.setAttribute('aria-pressed', String(!state.video));
    this.buttons.screen.setAttribute('aria-pressed', String(state.screen));
    this.#renderScreen('self', state.screen ? media.screen : null, this.text('screen_own'));
  }

  /** @param {RemotePeer} peer */
  renderPeer(peer) {
    let tile = this.#tiles.get(peer.id);
    if (!tile) {
      tile = new Tile(peer.id, false, true);
      this.#tiles.set(peer.id, tile);
      this.grid.append(tile.root);
      this.announce(this.text('peer_joined', { name: this.nameOf(peer.info) }));
    }
    const { info } = peer;
    tile.render({
      name: this.nameOf(info),
      label: this.labelOf(info),
      video: info.video && !peer.reconnecting ? peer.camera : null,
      audio: peer.audio,
      muted: !info.audio,
      mutedText: this.text('muted'),
      reconnecting: peer.reconnecting ? this.text('reconnecting_peer') : null,
      quality: { grade: peer.quality ?? 'unknown', text: this.text(`quality_${peer.quality ?? 'unknown'}`) },
    });
    this.#renderScreen(
      peer.id,
      info.screen ? peer.screen : null,
      this.text('screen_of', { name: this.nameOf(info) }),
    );
    this.renderParticipants();
    this.renderStatus();
  }

  /**
   * A shared screen gets its own tile, shown whole and first.
   * @param {string} owner @param {MediaStream | null} stream @param {string} label
   */
  #renderScreen(owner, stream, label) {
    const key = `screen:${owner}`;
    let tile = this.#tiles.get(key);
    if (!stream) {
      if (tile) {
        tile.remove();
        this.#tiles.delete(key);
        this.#layout();
      }
      return;
    }
    if (!tile) {
      tile = new Tile(key, false, false);
      tile.root.classList.add('tile--screen');
      this.#tiles.set(key, tile);
      this.grid.prepend(tile.root);
      this.#layout();
    }
    tile.render({ name: label, label, video: stream, muted: false, mutedText: '', reconnecting: null });
  }

  /** @param {string} id */
  #removeTiles(id) {
    for (const key of [id, `screen:${id}`]) {
      this.#tiles.get(key)?.remove();
      this.#tiles.delete(key);
    }
    this.#layout();
    this.renderStatus();
  }

  renderParticipants() {
    const items = [];
    const state = this.media.state;
    const selfRole = this.options.selfName ? this.roleLabel(this.options.selfRole) : '';
    items.push(this.#participantItem(this.selfLabel, selfRole, state, null));
    for (const peer of this.call.peers.values()) {
      const { info } = peer;
      items.push(this.#participantItem(this.nameOf(info), info.name ? this.roleLabel(info.role) : '', info, peer));
    }
    this.participants.replaceChildren(...items);
    this.#layout();
  }

  /** Tell the stylesheet what the stage holds: how many tiles, whether a screen is
   * shared (it then takes the most room), whether you are alone (then you fill it). */
  #layout() {
    const tiles = this.grid.children.length;
    const screens = this.grid.querySelectorAll('.tile--screen').length;
    this.grid.dataset.count = String(tiles);
    this.grid.dataset.layout = screens ? 'screen' : 'people';
    this.grid.dataset.people = String(tiles - screens);
    this.stage.dataset.alone = String(tiles === 0);
  }

  /**
   * @param {string} name as the page calls them
   * @param {string} role their role's label, or '' when `name` is that already
   * @param {{audio: boolean, video: boolean, screen: boolean}} state
   * @param {RemotePeer | null} peer
   */
  #participantItem(name, role, state, peer) {
    const item = make('li', 'call-participants__item');
    item.append(make('span', 'call-participants__name', name));
    if (role) item.append(` (${role})`);
    const notes = [];
    if (!state.audio) notes.push(this.text('muted'));
    if (!state.video) notes.push(this.text('camera_off'));
    if (state.screen) notes.push(this.text('sharing'));
    if (peer?.reconnecting) notes.push(this.text('reconnecting_peer'));
    if (notes.length) item.append(make('span', 'call-participants__state', ` – ${notes.join(', ')}`));
    const remove = this.options.onremove;
    if (peer && remove) {
      const button = /** @type {HTMLButtonElement} */ (make('button', 'secondary call-participants__remove'));
      button.type = 'button';
      button.textContent = this.text('remove');
      button.setAttribute('aria-label', `${this.text('remove')}: ${name}`);
      button.addEventListener('click', () => remove(peer));
      item.append(' ', button);
    }
    return item;
  }

  /** List the cameras and microphones in the two selects. */
  async fillDevices() {
    const devices = await this.media.devices();
    for (const kind of /** @type {DeviceKind[]} */ (['videoinput', 'audioinput'])) {
      const select = this.selects[kind];
      const inUse = this.media.deviceInUse(kind);
      const options = devices
        .filter((device) => device.kind === kind)
        .map((device, index) => {
          const option = new Option(
            device.label || this.text('device', { number: String(index + 1) }),
            device.deviceId,
          );
          option.selected = device.deviceId === inUse;
          return option;
        });
      select.replaceChildren(...options);
      select.disabled = options.length < 2;
    }
  }

  /** Leave the call view: release the pictures (the page shows what comes next). */
  hide() {
    for (const tile of this.#tiles.values()) tile.remove();
    this.#tiles.clear();
    this.self.render({ name: '', label: '', video: null, muted: false, mutedText: '', reconnecting: null });
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    this.root.hidden = true;
    document.body.classList.remove('in-call');
    const home = this.helpHome;
    if (this.options.help && home?.parent) home.parent.insertBefore(this.options.help, home.next);
  }
}
