// Camera, microphone and speaker probes of the device check. UI-free: callers pass the
// media elements they own and get plain values back.

/** @typedef {'blocked'|'notfound'|'busy'|'unsupported'} DeviceFailure */

/**
 * @typedef {object} Devices
 * @property {MediaStream} stream
 * @property {boolean} camera      a camera track is in the stream
 * @property {boolean} microphone  a microphone track is in the stream
 */

// What a call asks for; the fake camera of the browser tests honours it too.
const VIDEO = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 20 } };
const AUDIO = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
// Digital silence is exactly 0; a live microphone in a quiet room still shows noise
// around -60 dBFS. Anything above about -66 dBFS counts as a working microphone.
const SIGNAL_RMS = 0.0005;
// Mean and brightest luma (0–255) below which a picture counts as black.
const BLACK_MEAN = 10;
const BLACK_MAX = 30;

/** @returns {boolean} whether this browser can make a WebRTC call at all */
export function supportsCalls() {
    return (
        typeof RTCPeerConnection === 'function' &&
        !!navigator.mediaDevices &&
        typeof navigator.mediaDevices.getUserMedia === 'function'
    );
}

/**
 * Map a getUserMedia error to the help the page shows.
 * @param {unknown} error
 * @returns {DeviceFailure}
 */
export function classifyMediaError(error) {
    const name = error instanceof Error || error instanceof DOMException ? error.name : '';
    switch (name) {
        case 'NotAllowedError':
        case 'SecurityError':
        case 'PermissionDeniedError':
            return 'blocked';
        case 'NotFoundError':
        case 'OverconstrainedError':
        case 'DevicesNotFoundError':
            return 'notfound';
        case 'NotReadableError':
        case 'AbortError':
        case 'TrackStartError':
            return 'busy';
        default:
            return 'unsupported';
    }
}

/**
 * Ask for camera and microphone. A missing camera or microphone is not fatal: the
 * check goes on with what there is (audio only still allows a call).
 * @returns {Promise<Devices>}
 */
export async function openDevices() {
    const media = navigator.mediaDevices;
    try {
        const stream = await media.getUserMedia({ audio: AUDIO, video: VIDEO });
        return { stream, camera: true, microphone: true };
    } catch (error) {
        if (classifyMediaError(error) !== 'notfound') throw error;
        /** @type {[MediaStreamConstraints, boolean][]} */
        const alone = [
            [{ audio: AUDIO }, false],
            [{ video: VIDEO }, true],
        ];
        for (const [constraints, camera] of alone) {
            try {
                const stream = await media.getUserMedia(constraints);
                return { stream, camera, microphone: !camera };
            } catch {
                // try the other device on its own
            }
        }
        throw error;
    }
}

/**
 * Wait until the camera delivers frames, then sample their brightness a few times.
 *
 * The samples come from a video element of the probe's own, not from the page's
 * self-view: a browser may stop painting a muted video scrolled out of view, and
 * its canvas copy would then be black whatever the camera sees.
 * @param {MediaStream} stream
 * @param {number} timeoutMs
 * @returns {Promise<'ok'|'black'>}
 */
export async function probeCamera(stream, timeoutMs) {
    const deadline = performance.now() + timeoutMs;
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.srcObject = stream;
    const canvas = document.createElement('canvas');
    canvas.width = 32;
    canvas.height = 24;
    const context = canvas.getContext('2d', { willReadFrequently: true });
    try {
        await video.play().catch(() => undefined); // refused: no frames, so "black" below
        while (context && performance.now() < deadline) {
            if (video.videoWidth > 0 && video.readyState >= 2) {
                context.drawImage(video, 0, 0, canvas.width, canvas.height);
                if (isLit(context.getImageData(0, 0, canvas.width, canvas.height).data)) return 'ok';
            }
            await new Promise((resolve) => setTimeout(resolve, 200));
        }
        return 'black';
    } finally {
        video.srcObject = null;
    }
}

/**
 * @param {Uint8ClampedArray} pixels  RGBA
 */
function isLit(pixels) {
    let total = 0;
    let brightest = 0;
    for (let i = 0; i < pixels.length; i += 4) {
        const luma = 0.299 * pixels[i] + 0.587 * pixels[i + 1] + 0.114 * pixels[i + 2];
        total += luma;
        brightest = Math.max(brightest, luma);
    }
    return total / (pixels.length / 4) >= BLACK_MEAN || brightest >= BLACK_MAX;
}

/** The microphone's level, read through Web Audio while the page runs the check. */
export class LevelMeter {
    /**
     * @param {AudioContext} audio
     * @param {MediaStream} stream
     */
    constructor(audio, stream) {
        this.analyser = audio.createAnalyser();
        this.analyser.fftSize = 1024;
        this.source = audio.createMediaStreamSource(stream);
        this.source.connect(this.analyser);
        this.samples = new Float32Array(this.analyser.fftSize);
        /** Loudest level seen so far (RMS, 0–1). */
        this.peak = 0;
    }

    /** @returns {number} the current level (RMS, 0–1) */
    level() {
        this.analyser.getFloatTimeDomainData(this.samples);
        let energy = 0;
        for (const sample of this.samples) energy += sample * sample;
        const rms = Math.sqrt(energy / this.samples.length);
        this.peak = Math.max(this.peak, rms);
        return rms;
    }

    /** @returns {boolean} whether the microphone delivered any signal */
    heardSignal() {
        return this.peak > SIGNAL_RMS;
    }

    close() {
        this.source.disconnect();
    }
}

/** A short beeping test tone for the speaker question. */
export class Tone {
    /** @param {AudioContext} audio */
    constructor(audio) {
        this.audio = audio;
    }

    /**
     * Beep `count` times (440 Hz, half a second each). Resolves false when the
     * browser does not let the page play sound yet (autoplay policy).
     * @param {number} count
     */
    async play(count) {
        if (this.audio.state !== 'running') {
            await Promise.race([this.audio.resume(), new Promise((resolve) => setTimeout(resolve, 300))]);
        }
        if (this.audio.state !== 'running') return false;
        const start = this.audio.currentTime + 0.05;
        const oscillator = this.audio.createOscillator();
        const gain = this.audio.createGain();
        oscillator.frequency.value = 440;
        gain.gain.setValueAtTime(0, start);
        for (let i = 0; i < count; i++) {
            const at = start + i;
            gain.gain.setTargetAtTime(0.3, at, 0.01);
            gain.gain.setTargetAtTime(0, at + 0.5, 0.01);
        }
        oscillator.connect(gain).connect(this.audio.destination);
        oscillator.start(start);
        oscillator.stop(start + count);
        return true;
    }
}
