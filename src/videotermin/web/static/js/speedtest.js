// Upload and download rate against our own server. UI-free.
//
// Each direction runs for a fixed time: transfers start small (so a slow line still
// finishes one) and grow while they finish quickly (so a fast line is not measured
// by its latency). Bytes still in flight at the end count too, so the rate is the
// bytes moved divided by the time taken, whatever the line.

/**
 * @typedef {object} SpeedOptions
 * @property {string} downUrl
 * @property {string} upUrl
 * @property {string} csrfHeader
 * @property {string} csrfToken
 * @property {number} maxBytes   the server's limit for one transfer
 */

const FIRST_BYTES = 128 * 1024;
// Enough for a fair figure on a fast line; more only costs the line and the server.
const TOTAL_BYTES = 8 * 1024 * 1024;
const GROW_BELOW_MS = 400;

/**
 * @param {number} bytes
 * @param {number} ms
 * @returns {number|null} kbit/s
 */
function rate(bytes, ms) {
    return bytes > 0 && ms > 0 ? (bytes * 8) / ms : null;
}

/**
 * @param {number} size
 * @param {number} took  ms
 * @param {number} maxBytes
 */
function nextSize(size, took, maxBytes) {
    return took < GROW_BELOW_MS ? Math.min(size * 4, maxBytes) : size;
}

/**
 * Download for `seconds`; resolves with kbit/s, or null when nothing arrived.
 * @param {SpeedOptions} options
 * @param {number} seconds
 */
export async function measureDownload(options, seconds) {
    const started = performance.now();
    const deadline = started + seconds * 1000;
    let size = FIRST_BYTES;
    let total = 0;
    while (performance.now() < deadline && total < TOTAL_BYTES) {
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(), deadline - performance.now());
        const begun = performance.now();
        try {
            const response = await fetch(`${options.downUrl}?bytes=${size}`, {
                cache: 'no-store',
                credentials: 'same-origin',
                signal: controller.signal,
            });
            if (!response.ok || !response.body) break;
            const reader = response.body.getReader();
            for (;;) {
                const { done, value } = await reader.read();
                if (done) break;
                total += value.byteLength;
            }
        } catch {
            break; // the deadline aborted the transfer, or the network failed
        } finally {
            clearTimeout(timer);
        }
        size = nextSize(size, performance.now() - begun, options.maxBytes);
    }
    return rate(total, performance.now() - started);
}

/**
 * Upload for `seconds`; resolves with kbit/s, or null when nothing was sent.
 * XMLHttpRequest reports upload progress, so a transfer cut off by the deadline
 * still counts with the bytes it moved.
 * @param {SpeedOptions} options
 * @param {number} seconds
 */
export async function measureUpload(options, seconds) {
    const started = performance.now();
    const deadline = started + seconds * 1000;
    const data = randomBytes(Math.min(options.maxBytes, TOTAL_BYTES));
    let size = FIRST_BYTES;
    let total = 0;
    while (performance.now() < deadline && total < TOTAL_BYTES) {
        const begun = performance.now();
        const sent = await upload(options, data.subarray(0, size), deadline - begun);
        total += sent;
        if (sent < size) break;
        size = nextSize(size, performance.now() - begun, data.byteLength);
    }
    return rate(total, performance.now() - started);
}

/**
 * @param {SpeedOptions} options
 * @param {Uint8Array<ArrayBuffer>} body
 * @param {number} timeoutMs
 * @returns {Promise<number>} bytes sent
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
            resolve(request.status === 200 ? body.byteLength : sent);
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
