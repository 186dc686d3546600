// Drives Debian's Firefox ESR over WebDriver BiDi for the Python tests, one step at a time.
//
// Why a subprocess: Playwright's own BiDi mode does not work with this Firefox, while
// puppeteer-core does; pytest starts this driver and talks to it in JSON lines, so a
// test can interleave Firefox steps with Playwright/Chromium steps (a Firefox citizen
// and a Chromium advisor in one call). tests/e2e/firefox_driver.py is the Python side.
//
// Protocol — stdin: one command per line, stdout: one answer per line, in order.
//   started:   {"ready": true, "version": "firefox/…"}
//   command:   {"id": 0, "op": "init", "script": "window.seen = [];"}  runs before every page's own
//              {"id": 1, "op": "goto", "url": "http://127.0.0.1:…/check"}
//              {"id": 2, "op": "wait", "selector": "h2", "text": "Ergebnis", "timeout": 30000}
//              {"id": 3, "op": "click", "selector": "button", "text": "Ich höre den Ton"}
//              {"id": 4, "op": "evaluate", "expression": "document.title"}
//              {"id": 5, "op": "until", "expression": "video.videoWidth > 0", "timeout": 9000}
//              {"id": 6, "op": "errors"}   console errors and uncaught page errors so far
//              {"id": 7, "op": "viewport", "width": 360, "height": 740}
//              {"id": 8, "op": "screenshot", "path": "/tmp/page.png"}   the whole page, as PNG
//              {"id": 9, "op": "close"}
//   answer:    {"id": 1, "ok": true, "value": …} or {"id": 1, "ok": false, "error": "…"}
// `wait` and `click` look for the first element that matches the CSS selector, is
// visible and (with "text") contains the text; `wait` answers its text content.
// `evaluate` answers the expression's value (awaited when it is a promise) as JSON;
// `until` evaluates it again until it is truthy and answers that value.
//
// Firefox gets fake camera and microphone without a permission prompt, and real host
// addresses in ICE candidates (not mDNS names), so calls work on loopback.

import { createInterface } from 'node:readline';
import puppeteer from 'puppeteer-core';

const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';
const DEFAULT_TIMEOUT_MS = 10_000;
const POLL_MS = 50;

const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    extraPrefsFirefox: {
        'media.navigator.streams.fake': true,
        'media.navigator.permission.disabled': true,
        'media.peerconnection.ice.obfuscate_host_addresses': false,
    },
});
const page = await browser.newPage();
/** @type {string[]} */
const errors = [];
page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
});
page.on('pageerror', (error) => errors.push(String(error)));

/** @param {unknown} answer */
function send(answer) {
    process.stdout.write(JSON.stringify(answer) + '\n');
}

/**
 * The first visible element matching `selector` (and containing `text`), once there is one.
 * @param {string} selector
 * @param {string|undefined} text
 * @param {number} timeout
 */
async function visibleElement(selector, text, timeout) {
    const handle = await page.waitForFunction(
        (css, wanted) =>
            [...document.querySelectorAll(css)].find(
                (element) =>
                    element.checkVisibility() &&
                    (!wanted || (element.textContent || '').includes(wanted)),
            ),
        { timeout, polling: POLL_MS },
        selector,
        text ?? '',
    );
    const element = handle.asElement();
    if (!element) throw new Error(`no element for ${selector}`);
    return element;
}

/** @param {any} command */
async function perform(command) {
    const timeout = command.timeout ?? DEFAULT_TIMEOUT_MS;
    switch (command.op) {
        case 'init':
            await page.evaluateOnNewDocument(command.script);
            return null;
        case 'goto':
            await page.goto(command.url, { waitUntil: 'load', timeout });
            return page.url();
        case 'wait': {
            const element = await visibleElement(command.selector, command.text, timeout);
            return element.evaluate((found) => found.textContent);
        }
        case 'click': {
            const element = await visibleElement(command.selector, command.text, timeout);
            await element.click();
            return null;
        }
        case 'type': {
            const element = await visibleElement(command.selector, command.text, timeout);
            await element.type(command.value);
            return null;
        }
        case 'cookie':
            await page.setCookie({ name: command.name, value: command.value, url: command.url });
            return null;
        case 'evaluate':
            return page.evaluate(command.expression);
        case 'until': {
            const handle = await page.waitForFunction(command.expression, { timeout, polling: POLL_MS });
            return handle.jsonValue();
        }
        case 'errors':
            return [...errors];
        case 'viewport':
            await page.setViewport({ width: command.width, height: command.height });
            return null;
        case 'screenshot':
            await page.screenshot({ path: command.path, fullPage: true });
            return null;
        default:
            throw new Error(`unknown op ${JSON.stringify(command.op)}`);
    }
}

send({ ready: true, version: await browser.version() });
try {
    for await (const line of createInterface({ input: process.stdin })) {
        if (!line.trim()) continue;
        /** @type {any} */
        let command;
        try {
            command = JSON.parse(line);
        } catch {
            send({ id: null, ok: false, error: 'not JSON: ' + line.slice(0, 200) });
            continue;
        }
        if (command.op === 'close') {
            send({ id: command.id, ok: true, value: null });
            break;
        }
        try {
            send({ id: command.id, ok: true, value: (await perform(command)) ?? null });
        } catch (error) {
            send({ id: command.id, ok: false, error: String(error) });
        }
    }
} finally {
    await browser.close();
    process.exit(0); // stdin may still be open; the test waits for this process to end
}
