// The test call: a peer connection to the server's echo peer, and what it measures.
//
// UI-free (like Galène's protocol.js): the page module (devicecheck.js) owns the DOM
// and learns about progress through the documented `on…` callbacks.
//
// The call is non-trickle: the offer is posted once ICE gathering has finished (or a
// short time has passed), and the answer already holds the echo's candidates. A busy
// echo answers 503 with Retry-After; the call then waits politely and tries again.

import { QUALITY_LIMITS } from './constants.js';

/**
 * @typedef {object} CallOptions
 * @property {string} callUrl      where the offer is posted
 * @property {string} csrfHeader   header that carries the page token
 * @property {string} csrfToken
 * @property {RTCIceServer[]} iceServers  the same servers a real call uses
 * @property {RTCIceTransportPolicy} iceTransportPolicy  'relay' when the operator sends
 *     all media through TURN — then the test call must take that path too
 */

/**
 * What the call measured; `null` where the browser reported nothing.
 * @typedef {object} CallFigures
 * @property {boolean} connected      media came back from the echo
 * @property {number|null} roundTripMs
 * @property {number|null} packetLossPct  loss on the way there and back
 * @property {number|null} jitterMs
 * @property {number|null} bitrateKbps    video rate the path carries (see videoBitrate)
 * @property {number} audioEnergy         energy the microphone sent (0 = silence); where
 *     the browser does not report it (Firefox has no `totalAudioEnergy` on `media-source`),
 *     the energy of the echo's returned audio — the same sound, back from the server
 */

/** @typedef {'connecting'|'waiting'|'measuring'|'failed'} CallState */

// The test call's video is capped: the echo returns every byte, so each kbit/s the
// browser sends costs the citizen twice for the length of the call, and the call only
// has to show that the path carries the rate the grading calls good. Chromium aims its
// encoder at about 5/6 of the cap (measured with a camera filming noise: 500 kbit/s
// under a cap of 600, 667 under 800), so the cap leaves that rate a margin.
const VIDEO_MAX_KBPS = 1.6 * QUALITY_LIMITS.bitrate.green;
// ICE gathering rarely needs longer; a slow STUN/TURN server must not stall the check.
const GATHER_TIMEOUT_MS = 2500;
const CONNECT_TIMEOUT_MS = 8000;

/** @param {number} ms */
function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Post JSON with the page token; the server refuses anything else (CSRF).
 * @param {string} url
 * @param {unknown} body
 * @param {{csrfHeader: string, csrfToken: string}} auth
 */
export function postJson(url, body, auth) {
    return fetch(url, {
        method: 'POST',
        credentials: 'same-origin',
        cache: 'no-store',
        headers: { 'Content-Type': 'application/json', [auth.csrfHeader]: auth.csrfToken },
        body: JSON.stringify(body),
    });
}

/** @param {RTCPeerConnection} pc */
function gatheringComplete(pc) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
        const done = () => {
            if (pc.iceGatheringState === 'complete') resolve(undefined);
        };
        pc.addEventListener('icegatheringstatechange', done);
        setTimeout(resolve, GATHER_TIMEOUT_MS);
    });
}

/** @param {RTCPeerConnection} pc */
function connected(pc) {
    return new Promise((resolve, reject) => {
        const check = () => {
            if (pc.connectionState === 'connected') resolve(undefined);
            if (pc.connectionState === 'failed' || pc.connectionState === 'closed') {
                reject(new Error('connection ' + pc.connectionState));
            }
        };
        pc.addEventListener('connectionstatechange', check);
        setTimeout(() => reject(new Error('connection timeout')), CONNECT_TIMEOUT_MS);
        check();
    });
}

/**
 * @param {RTCStatsReport} report
 * @param {string} type
 * @param {string} [kind]
 * @returns {any[]}
 */
function statsOf(report, type, kind) {
    /** @type {any[]} */
    const found = [];
    report.forEach((stat) => {
        if (stat.type === type && (kind === undefined || stat.kind === kind)) found.push(stat);
    });
    return found;
}

/**
 * @param {any[]} stats
 * @param {string} field
 */
function sum(stats, field) {
    return stats.reduce((total, stat) => total + (Number(stat[field]) || 0), 0);
}

/**
 * The round trip of the media path: the selected ICE pair's, else the RTCP-based one.
 * @param {RTCStatsReport} report
 * @returns {number|null} seconds
 */
function roundTripSeconds(report) {
    for (const transport of statsOf(report, 'transport')) {
        const pair = report.get(transport.selectedCandidatePairId);
        if (pair && typeof pair.currentRoundTripTime === 'number') return pair.currentRoundTripTime;
    }
    const times = statsOf(report, 'remote-inbound-rtp')
        .map((stat) => stat.roundTripTime)
        .filter((value) => typeof value === 'number');
    return times.length ? Math.max(...times) : null;
}

/**
 * The video bitrate the path carries, in kbit/s: the rate of the returned video —
 * or, when everything the browser sent came back, the rate its congestion control
 * allows the encoder (outbound `targetBitrate`). A still picture is cheap to encode,
 * so the returned rate alone would call a good line slow; on a line that loses video
 * the browser lowers its target (and delay shows in the round trip and jitter).
 * @param {RTCStatsReport} first
 * @param {RTCStatsReport} last
 * @param {number} seconds
 * @returns {number|null}
 */
function videoBitrate(first, last, seconds) {
    if (statsOf(last, 'inbound-rtp', 'video').length === 0) return null;
    /** @param {string} type @param {string} field */
    const kbps = (type, field) => {
        const bytes = sum(statsOf(last, type, 'video'), field) - sum(statsOf(first, type, 'video'), field);
        return (Math.max(0, bytes) * 8) / seconds / 1000;
    };
    const returned = kbps('inbound-rtp', 'bytesReceived');
    const sent = kbps('outbound-rtp', 'bytesSent');
    const target = sum(statsOf(last, 'outbound-rtp', 'video'), 'targetBitrate') / 1000;
    return sent > 0 && returned >= 0.9 * sent ? Math.max(returned, target) : returned;
}

/**
 * Figures over the window between two stats reports.
 * @param {RTCStatsReport} first
 * @param {RTCStatsReport} last
 * @param {number} seconds  length of the window
 * @returns {CallFigures}
 */
function figuresBetween(first, last, seconds) {
    /** @param {string} type @param {string} field @param {string} [kind] */
    const delta = (type, field, kind) =>
        Math.max(0, sum(statsOf(last, type, kind), field) - sum(statsOf(first, type, kind), field));

    const received = delta('inbound-rtp', 'packetsReceived');
    const lostDown = delta('inbound-rtp', 'packetsLost');
    const sent = delta('outbound-rtp', 'packetsSent');
    const lostUp = delta('remote-inbound-rtp', 'packetsLost');
    const down = received + lostDown > 0 ? lostDown / (received + lostDown) : 0;
    const up = sent > 0 ? Math.min(1, lostUp / sent) : 0;

    const audio = [...statsOf(last, 'inbound-rtp', 'audio'), ...statsOf(last, 'remote-inbound-rtp', 'audio')];
    const jitters = audio
        .map((stat) => stat.jitter)
        .filter((value) => typeof value === 'number');
    const rtt = roundTripSeconds(last);
    return {
        connected: received > 0,
        roundTripMs: rtt === null ? null : rtt * 1000,
        packetLossPct: received > 0 ? 100 * (1 - (1 - up) * (1 - down)) : null,
        jitterMs: jitters.length ? Math.max(...jitters) * 1000 : null,
        bitrateKbps: videoBitrate(first, last, seconds),
        audioEnergy:
            delta('media-source', 'totalAudioEnergy', 'audio') ||
            delta('inbound-rtp', 'totalAudioEnergy', 'audio'),
    };
}

export class TestCall {
    /** @param {CallOptions} options */
    constructor(options) {
        this.options = options;
        /** @type {RTCPeerConnection|null} */
        this.pc = null;
        /** The echo's media as it comes back; complete once `onremotestream` fired. */
        this.remote = new MediaStream();
        /** @type {(state: CallState) => void} called on every change of state */
        this.onstate = () => {};
        /** @type {(stream: MediaStream) => void} called when returned media arrives */
        this.onremotestream = () => {};
    }

    /**
     * Call the echo with `stream`'s tracks and wait until the connection stands.
     * Waits as long as the echo is busy; throws when the call cannot be made.
     * @param {MediaStream} stream
     */
    async connect(stream) {
        this.onstate('connecting');
        const pc = new RTCPeerConnection({
            iceServers: this.options.iceServers,
            iceTransportPolicy: this.options.iceTransportPolicy,
        });
        this.pc = pc;
        for (const track of stream.getTracks()) {
            const sendEncodings = track.kind === 'video' ? [{ maxBitrate: VIDEO_MAX_KBPS * 1000 }] : [];
            pc.addTransceiver(track, { direction: 'sendrecv', sendEncodings });
        }
        pc.addEventListener('track', (event) => {
            this.remote.addTrack(event.track);
            this.onremotestream(this.remote);
        });
        await pc.setLocalDescription(await pc.createOffer());
        await gatheringComplete(pc);
        const answer = await this.exchange(/** @type {RTCSessionDescription} */ (pc.localDescription));
        await pc.setRemoteDescription(answer);
        await connected(pc);
        this.onstate('measuring');
    }

    /**
     * Post the offer until the echo has a free slot.
     * @param {RTCSessionDescription} offer
     * @returns {Promise<RTCSessionDescriptionInit>}
     */
    async exchange(offer) {
        for (;;) {
            const body = { type: 'offer', sdp: offer.sdp };
            const response = await postJson(this.options.callUrl, body, this.options);
            if (response.status === 503 || response.status === 429) {
                this.onstate('waiting');
                const seconds = Number(response.headers.get('Retry-After')) || 2;
                await sleep(seconds * 1000);
                this.onstate('connecting');
                continue;
            }
            if (!response.ok) throw new Error('echo refused the call: ' + response.status);
            const answer = await response.json();
            return { type: 'answer', sdp: String(answer.sdp) };
        }
    }

    /**
     * Measure for `seconds` from now.
     * @param {number} seconds
     * @returns {Promise<CallFigures>}
     */
    async measure(seconds) {
        const pc = this.pc;
        if (!pc) throw new Error('not connected');
        const first = await pc.getStats();
        const started = performance.now();
        await sleep(seconds * 1000);
        const last = await pc.getStats();
        return figuresBetween(first, last, (performance.now() - started) / 1000);
    }

    /** Hang up: the echo ends the call as soon as the connection closes. */
    close() {
        if (this.pc) this.pc.close();
        this.pc = null;
    }
}

/** @returns {CallFigures} what a call that never connected measured */
export function failedCall() {
    return {
        connected: false,
        roundTripMs: null,
        packetLossPct: null,
        jitterMs: null,
        bitrateKbps: null,
        audioEnergy: 0,
    };
}
