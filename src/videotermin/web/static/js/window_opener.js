// @ts-check
/**
 * Opens "Beratungsraum betreten" when the join window opens.
 *
 * The server alone decides whether someone may enter; this module only saves
 * the citizen from reloading by hand. A disabled button carries two numbers
 * (milliseconds since the epoch, both from the server's clock):
 *
 *   <button disabled data-opens-at="…" data-server-now="…">
 *
 * The difference between the server's "now" and the device's clock at load
 * corrects a device clock that is wrong by minutes, so the page asks again
 * when the *server* says the window is open. It then enables the button and
 * reloads; the server renders the working link. Timers are re-armed at most
 * every 15 seconds and whenever the page becomes visible, because browsers
 * delay timers in background tabs and while a device sleeps.
 */

const LONGEST_WAIT_MS = 15_000;

/**
 * Milliseconds until the window opens, on the server's clock.
 * @param {number} opensAt
 * @param {number} skew server time minus device time
 * @returns {number}
 */
function remaining(opensAt, skew) {
  return opensAt - (Date.now() + skew);
}

/**
 * @param {HTMLButtonElement} button
 */
function watch(button) {
  const opensAt = Number(button.dataset.opensAt);
  const serverNow = Number(button.dataset.serverNow);
  if (!Number.isFinite(opensAt) || !Number.isFinite(serverNow) || opensAt <= serverNow) {
    return;
  }
  const skew = serverNow - Date.now();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;

  const check = () => {
    clearTimeout(timer);
    const left = remaining(opensAt, skew);
    if (left > 0) {
      timer = setTimeout(check, Math.min(left, LONGEST_WAIT_MS));
      return;
    }
    document.removeEventListener("visibilitychange", check);
    button.disabled = false;
    window.location.reload();
  };

  document.addEventListener("visibilitychange", check);
  check();
}

for (const button of document.querySelectorAll("button[data-opens-at]")) {
  if (button instanceof HTMLButtonElement) {
    watch(button);
  }
}
