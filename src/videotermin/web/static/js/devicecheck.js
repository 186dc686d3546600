// The device-check page: runs the steps and shows their results and the verdict.
//
// All wording comes from the page (hidden, server-rendered and translated blocks picked
// by key); this module only decides which block to show. The measuring itself lives in
// the UI-free modules testcall.js, mediaprobe.js and speedtest.js.

import { failedCall, postJson, TestCall } from './testcall.js';
import {
    classifyMediaError,
    LevelMeter,
    openDevices,
    probeCamera,
    supportsCalls,
    Tone,
} from './mediaprobe.js';
import { measureDownload, measureUpload } from './speedtest.js';

/**
 * @typedef {object} CheckConfig
 * @property {string} checkUrl
 * @property {string} callUrl
 * @property {string} resultUrl
 * @property {string} [progressUrl]
 * @property {string} [roomUrl]
 * @property {string} speedDownUrl
 * @property {string} speedUpUrl
 * @property {string} csrfHeader
 * @property {string} csrfToken
 * @property {RTCIceServer[]} iceServers
 * @property {RTCIceTransportPolicy} iceTransportPolicy
 * @property {number} testcallSeconds
 * @property {number} maxSpeedBytes
 * @property {number} [opensInSeconds]
 */

/**
 * @typedef {object} Finding
 * @property {string} item
 * @property {'green'|'yellow'|'red'} grade
 * @property {number|string|null} value
 * @property {string} advice
 */

/** @typedef {{verdict: 'green'|'yellow'|'red', findings: Finding[]}} Verdict */

const CAMERA_TIMEOUT_MS = 3000;
const TONE_BEEPS = 4;
const METER_INTERVAL_MS = 100;

/** @type {CheckConfig} */
const config = JSON.parse(element('check-config').textContent || '{}');
const lang = document.documentElement.lang || 'de';

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
function element(id) {
    const found = document.getElementById(id);
    if (!found) throw new Error('missing #' + id);
    return found;
}

/**
 * The page's text for `key` (from the hidden list of status messages).
 * @param {string} key
 */
function text(key) {
    const item = document.querySelector(`#check-messages [data-message="${key}"]`);
    return item ? item.textContent || '' : '';
}

/**
 * Announce a step's result in the live region and show it at the step.
 * @param {string} key
 * @param {string} [step]
 */
function say(key, step) {
    element('check-status').textContent = text(key);
    if (step) {
        const state = document.querySelector(`[data-state="${step}"]`);
        if (state) state.textContent = text(key);
    }
}

/** @param {HTMLElement} section */
function showAndFocus(section) {
    section.hidden = false;
    section.focus();
}

/**
 * Tell the server which step the check is at, for the support desk (personal link only).
 * Best effort: a lost report changes nothing for the citizen.
 * @param {string} step
 */
function report(step) {
    if (config.progressUrl) postJson(config.progressUrl, { step }, config).catch(() => null);
}

/** @param {import('./mediaprobe.js').DeviceFailure} failure */
function fail(failure) {
    report(failure);
    element('check-ask').hidden = true;
    element('check-status').textContent = '';
    showAndFocus(element('check-failure-' + failure));
}

/**
 * The speaker question's answer: the only click the check asks for.
 * @returns {Promise<string>}
 */
function speakerAnswer() {
    return new Promise((resolve) => {
        for (const button of document.querySelectorAll('[data-answer]')) {
            button.addEventListener('click', () => {
                const answer = /** @type {HTMLElement} */ (button).dataset.answer;
                for (const other of document.querySelectorAll('[data-answer]')) {
                    other.setAttribute('aria-pressed', String(other === button));
                }
                say('speaker-' + answer, 'speaker');
                resolve(answer || '');
            });
        }
    });
}

/** The room opens while the page is open: swap the disabled button for the link. */
function enableRoomLater() {
    const later = document.getElementById('check-enter-later');
    if (!later || !config.opensInSeconds) return;
    setTimeout(() => {
        later.hidden = true;
        element('check-enter').hidden = false;
    }, config.opensInSeconds * 1000);
}

/**
 * A measured figure in the page's language, with its unit.
 * @param {Finding} finding
 */
function formatValue(finding) {
    if (typeof finding.value !== 'number') return '';
    const number = (/** @type {number} */ value, /** @type {number} */ digits) =>
        new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(value);
    switch (finding.item) {
        case 'round_trip':
        case 'jitter':
            return `(${number(finding.value, 0)} ms)`;
        case 'packet_loss':
            return `(${number(finding.value, 1)} %)`;
        default:
            return finding.value >= 1000
                ? `(${number(finding.value / 1000, 1)} Mbit/s)`
                : `(${number(finding.value, 0)} kbit/s)`;
    }
}

/**
 * Clone a hidden server-rendered template.
 * @param {string} selector
 */
function fromTemplate(selector) {
    const template = /** @type {HTMLTemplateElement|null} */ (document.querySelector(selector));
    return template ? template.content.cloneNode(true) : document.createDocumentFragment();
}

/** @param {Verdict} verdict */
function showVerdict(verdict) {
    const section = element('check-verdict');
    const block = section.querySelector(`[data-verdict="${verdict.verdict}"]`);
    if (block) /** @type {HTMLElement} */ (block).hidden = false;
    const list = element('check-findings');
    for (const finding of verdict.findings) {
        const name = document.createElement('strong');
        name.append(fromTemplate(`template[data-item="${finding.item}"]`), ':');
        const head = document.createElement('p');
        head.className = 'check-finding-head';
        head.append(name, ' ', fromTemplate(`template[data-grade="${finding.grade}"]`));
        const body = document.createElement('p');
        body.append(fromTemplate(`template[data-advice="${finding.advice}"]`));
        const value = body.querySelector('.check-finding-value');
        if (value) value.textContent = formatValue(finding);
        const item = document.createElement('li');
        item.className = 'check-finding';
        item.append(head, body);
        list.append(item);
    }
    element('check-steps').hidden = true; // the findings say all the steps said, and more
    say('done');
    showAndFocus(section);
}

/** @param {number|null} value */
function rounded(value) {
    return value === null || !Number.isFinite(value) ? null : Math.round(value * 10) / 10;
}

/**
 * @param {MediaStream} stream
 * @param {boolean} present
 */
async function checkCamera(stream, present) {
    if (!present) {
        say('camera-missing', 'camera');
        return 'missing';
    }
    const state = await probeCamera(stream, CAMERA_TIMEOUT_MS);
    say('camera-' + state, 'camera');
    return state;
}

/**
 * @param {MediaStream} stream
 * @param {TestCall} call
 */
async function runCall(stream, call) {
    call.onstate = (state) => {
        if (state === 'waiting') say('call-waiting', 'call');
        if (state === 'connecting') say('call-connecting', 'call');
        if (state === 'measuring') say('call-measuring', 'call');
    };
    call.onremotestream = (remote) => {
        const returned = /** @type {HTMLVideoElement} */ (element('check-returned'));
        if (returned.srcObject !== remote) returned.srcObject = remote;
    };
    try {
        await call.connect(stream);
        const figures = await call.measure(config.testcallSeconds);
        say(figures.connected ? 'call-ok' : 'call-failed', 'call');
        return figures;
    } catch {
        say('call-failed', 'call');
        return failedCall();
    }
}

async function runSpeed() {
    say('speed-running', 'speed');
    const options = {
        downUrl: config.speedDownUrl,
        upUrl: config.speedUpUrl,
        csrfHeader: config.csrfHeader,
        csrfToken: config.csrfToken,
        maxBytes: config.maxSpeedBytes,
    };
    const seconds = Math.max(1, (config.testcallSeconds - 1) / 2);
    const download = await measureDownload(options, seconds);
    const upload = await measureUpload(options, seconds);
    say('speed-done', 'speed');
    return { download, upload };
}

async function main() {
    enableRoomLater();
    if (!supportsCalls()) return fail('unsupported');
    say('asking');
    let devices;
    try {
        devices = await openDevices();
    } catch (error) {
        return fail(classifyMediaError(error));
    }
    element('check-ask').hidden = true;
    element('check-steps').hidden = false;
    report('running');
    say(devices.camera && devices.microphone ? 'running' : devices.camera ? 'video-only' : 'audio-only');

    const self = /** @type {HTMLVideoElement} */ (element('check-self'));
    self.srcObject = devices.stream;
    const audio = new AudioContext();
    const tone = new Tone(audio);
    const meter = devices.microphone ? new LevelMeter(audio, devices.stream) : null;
    const levelBar = /** @type {HTMLMeterElement} */ (element('check-level'));
    // Where the browser keeps Web Audio suspended (autoplay policy), the meter reads
    // nothing; the call's own audio statistics then tell whether the microphone works.
    let meterRan = false;
    const metering = setInterval(() => {
        if (!meter || audio.state !== 'running') return;
        const heardBefore = meter.heardSignal();
        levelBar.value = Math.min(100, Math.round(meter.level() * 400));
        meterRan = true;
        if (!heardBefore && meter.heardSignal()) say('microphone-ok', 'microphone');
    }, METER_INTERVAL_MS);
    element('check-tone').addEventListener('click', () => tone.play(TONE_BEEPS));
    /** @type {string|null} */
    let answered = null;
    const answer = speakerAnswer().then((given) => (answered = given));
    tone.play(TONE_BEEPS).then((playing) => playing || say('speaker-play', 'speaker'));
    say(devices.microphone ? 'checking' : 'microphone-missing', 'microphone');

    const call = new TestCall(config);
    const [camera, figures, speed] = await Promise.all([
        checkCamera(devices.stream, devices.camera),
        runCall(devices.stream, call),
        runSpeed(),
    ]);
    call.close();
    clearInterval(metering);
    const heard = meterRan ? !!meter?.heardSignal() : figures.audioEnergy > 0;
    const microphone = !devices.microphone ? 'missing' : heard ? 'ok' : 'silent';
    say('microphone-' + microphone, 'microphone');

    if (answered === null) {
        say('speaker-question');
        /** @type {HTMLElement} */ (document.querySelector('[data-answer]')).focus();
    }
    const speaker = await answer;
    for (const track of devices.stream.getTracks()) track.stop();
    meter?.close();
    audio.close();

    say('grading');
    report('grading');
    const response = await postJson(
        config.resultUrl,
        {
            camera,
            microphone,
            speaker,
            connected: figures.connected,
            round_trip_ms: rounded(figures.roundTripMs),
            packet_loss_pct: rounded(figures.packetLossPct),
            jitter_ms: rounded(figures.jitterMs),
            bitrate_kbps: rounded(figures.bitrateKbps),
            upload_kbps: rounded(speed.upload),
            download_kbps: rounded(speed.download),
        },
        config,
    ).catch(() => null);
    if (!response || !response.ok) return say('send-failed');
    showVerdict(await response.json());
}

main();
