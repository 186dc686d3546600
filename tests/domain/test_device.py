"""Device parameters from User-Agent headers, and which unblock help comes first."""

from __future__ import annotations

import pytest

from videotermin.domain.device import (
    DeviceParameters,
    DeviceType,
    PermissionHelp,
    device_parameters,
    permission_help,
)

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
)
FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0"
EDGE_WINDOWS = CHROME_WINDOWS + " Edg/131.0.2903.86"
CHROME_ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_IPAD = SAFARI_IPHONE.replace("iPhone; CPU iPhone OS", "iPad; CPU OS")
HEADLESS_CHROMIUM_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/156.0.0.0 Safari/537.36"
)
FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0"
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15"
)


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (
            CHROME_WINDOWS,
            DeviceParameters("Windows", "10", DeviceType.DESKTOP, None, "Chrome", "131.0"),
        ),
        (
            SAFARI_IPHONE,
            DeviceParameters("iOS", "17.4.1", DeviceType.PHONE, "iPhone", "Mobile Safari", "17.4"),
        ),
        (
            FIREFOX_ANDROID,
            DeviceParameters(
                "Android", "14", DeviceType.PHONE, "Smartphone", "Firefox Mobile", "125.0"
            ),
        ),
        (
            EDGE_WINDOWS,
            DeviceParameters("Windows", "10", DeviceType.DESKTOP, None, "Edge", "131.0"),
        ),
        (
            CHROME_ANDROID_TABLET,
            DeviceParameters("Android", "10", DeviceType.TABLET, "K", "Chrome", "131.0"),
        ),
        (
            SAFARI_IPAD,
            DeviceParameters("iOS", "17.4.1", DeviceType.TABLET, "iPad", "Mobile Safari", "17.4"),
        ),
        (
            HEADLESS_CHROMIUM_LINUX,
            DeviceParameters("Linux", None, DeviceType.DESKTOP, None, "Chrome", "156.0"),
        ),
    ],
    ids=[
        "chrome-windows",
        "safari-iphone",
        "firefox-android",
        "edge",
        "android-tablet",
        "ipad",
        "headless",
    ],
)
def test_known_browsers(user_agent: str, expected: DeviceParameters) -> None:
    assert device_parameters(user_agent) == expected


@pytest.mark.parametrize("user_agent", ["", "curl/8.5.0", "x" * 600, "Mozilla/5.0 (\u0000)"])
def test_an_unknown_user_agent_gives_unknowns_not_errors(user_agent: str) -> None:
    device = device_parameters(user_agent)

    assert device.os_family is None
    assert device.device_model is None
    assert device.device_type == DeviceType.DESKTOP
    assert device.browser_family in (None, "curl")


@pytest.mark.parametrize(
    ("user_agent", "first"),
    [
        (CHROME_WINDOWS, PermissionHelp.CHROME),
        (EDGE_WINDOWS, PermissionHelp.CHROME),
        (FIREFOX_MAC, PermissionHelp.FIREFOX),
        (SAFARI_MAC, PermissionHelp.SAFARI),
        (SAFARI_IPHONE, PermissionHelp.IOS),
        (FIREFOX_ANDROID, PermissionHelp.ANDROID),
        ("", PermissionHelp.CHROME),
    ],
)
def test_the_help_for_the_browser_at_hand_comes_first(
    user_agent: str, first: PermissionHelp
) -> None:
    assert permission_help(device_parameters(user_agent)) == first
