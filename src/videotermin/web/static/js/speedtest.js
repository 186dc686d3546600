// Upload and download rate against our own server. UI-free.
//
// The question is whether the line carries a video call, not how fast it is: many
// citizens pay for every megabyte. So each direction stops as soon as the line has
// proven it carries twice the rate a call needs (the `green` bound of QUALITY_LIMITS,
// graded on the server) over at least PROOF_BYTES — or when its time is up, or when
// it has moved the server's budget (`maxBytes`, one check's share of each direction).
//
// Each transfer is as large as everything moved before it (64 KiB, 64, 128, 256 …),
// so a slow line still finishes the first one and a fast line is not measured by its
// latency alone. The rate is the bytes of the complete transfers divided by the time
// since the first request — latency and every transfer's start included, so a line
// proves only what it really carried. A line that does not prove the rate goes on
// while the next transfer still fits in its time, and its figure is its rate.

import { QUALITY_LIMITS } from './constants.js';

/**
 * @typedef {object} SpeedOptions
 * @property {string} downUrl
 * @property {string} upUrl
 * @property {string} csrfHeader
 * @property {string} csrfToken
 * @property {number} maxBytes   what one check may move each way (the server refuses more)
 */

const FIRST_BYTES = 64 * 1024;
// The proof must last: at the proven rate this is about a second of traffic.
const PROOF_BYTES = 256 * 1024;
// Twice what the grading calls good: enough headroom for the call's video and sound.
const MARGIN = 2;

/**
 * @param {number} bytes
 * @param {number} ms
 * @returns {number|null} kbit/s
 */
function rate(bytes, ms) {
    return bytes > 0 && ms > 0 ? (bytes * 8) / ms : null;
}

/**
 * Moves transfers while the direction has time and budget left and has not proven
 * `proveKbps` yet; resolves with kbit/s, or null when nothing moved.
 *
 * The rate counts complete transfers only — a transfer cut off by the deadline says
 * how much was handed to the network, not how much arrived — and a transfer that
 * would not finish in the time left at the rate so far is not started (it would cost
 * bytes and prove nothing). Only when not even the first transfer finished do the
 * bytes it moved stand in: such a line is far too slow either way.
 * @param {number} seconds
 * @param {number} maxBytes
 * @param {number} proveKbps
 * @param {(size: number, timeLeftMs: number) => Promise<{moved: number, complete: boolean}>} transfer
 */
async function measure(seconds, maxBytes, proveKbps, transfer) {
    const started = performance.now();
    const deadline = started + seconds * 1000;
    let done = 0;
    let doneMs = 0;
    for (;;) {
        const kbps = rate(done, doneMs);
        const size = Math.min(Math.max(FIRST_BYTES, done), maxBytes - done);
        const left = deadline - performance.now();
        const proven = done >= PROOF_BYTES && kbps !== null && kbps >= proveKbps;
        const late = left <= 0 || (kbps !== null && (size * 8) / kbps > left);
        if (proven || late || size <= 0) break;
        const { moved, complete } = await transfer(size, left);
        if (!complete) {
            return done > 0 ? kbps : rate(moved, performance.now() - started);
        }
        done += moved;
        doneMs = performance.now() - started;
    }
    return rate(done, doneMs);
}

/**
 * Download for at most `seconds`; resolves with kbit/s, or null when nothing arrived.
 * @param {SpeedOptions} options
 * @param {number} seconds
 */
export function measureDownload(options, seconds) {
    const prove = MARGIN * QUALITY_LIMITS.download.green;
    return measure(seconds, options.maxBytes, prove, (size, timeLeftMs) =>
        download(options, size, timeLeftMs),
    );
}

/**
 * Upload for at most `seconds`; resolves with kbit/s, or null when nothing was sent.
 * XMLHttpRequest reports upload progress, so a transfer cut off by the deadline
 * still counts with the bytes it moved.
 * @param {SpeedOptions} options
 * @param {number} seconds
 */
export function measureUpload(options, seconds) {
    const prove = MARGIN * QUALITY_LIMITS.upload.green;
    const data = randomBytes(options.maxBytes);
    return measure(seconds, options.maxBytes, prove, (size, timeLeftMs) =>
        upload(options, data.subarray(0, size), timeLeftMs),
    );
}

/**
 * @param {SpeedOptions} options
 * @param {number} size
 * @param {number} timeoutMs
 * @returns {Promise<{moved: number, complete: boolean}>}
 */
async function download(options, size, timeoutMs) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let moved = 0;
    try {
        const response = await fetch(`${options.downUrl}?bytes=${size}`, {
            cache: 'no-store',
            credentials: 'same-origin',
            signal: controller.signal,
        });
        if (!response.ok || !response.body) return { moved, complete: false };
        const reader = response.body.getReader();
        for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            moved += value.byteLength;
        }
        return { moved, complete: moved >= size };
    } catch {
        return { moved, complete: false }; // the deadline aborted it, or the network failed
    } finally {
        clearTimeout(timer);
    }
}

/**
 * @param {SpeedOptions} options
 * @param {Uint8Array<ArrayBuffer>} body
 * @param {number} timeoutMs
 * @returns {Promise<{moved: number, complete: boolean}>}
 */
function upload(options, body, timeoutMs) {
    return new Promise((resolve) => {
        const request = new XMLHttpRequest();
        let sent = 0;
        const timer = setTimeout(() => request.abort(), timeoutMs);
        request.upload.addEventListener('progress', (event) => {
            sent = event.loaded;
        });
        request.addEventListener('loadend', () => {
            clearTimeout(timer);
            const complete = request.status === 200;
            resolve({ moved: complete ? body.byteLength : sent, complete });
        });
        request.open('POST', options.upUrl);
        request.setRequestHeader('Content-Type', 'application/octet-stream');
        request.setRequestHeader(options.csrfHeader, options.csrfToken);
        request.send(body);
    });
}

/**
 * Random bytes, so that no compression on the way makes the line look faster.
 * @param {number} size
 */
function randomBytes(size) {
    const data = new Uint8Array(size);
    for (let offset = 0; offset < size; offset += 65536) {
        crypto.getRandomValues(data.subarray(offset, Math.min(offset + 65536, size)));
    }
    return data;
}
