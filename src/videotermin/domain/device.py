"""Device parameters from a User-Agent: operating system, device type and browser.

Support staff and the statistics need to know "Safari 17 on an iPhone" or
"Edge on Windows", not the raw header, so a check stores these few fields.
``ua-parser`` knows the families; this module only normalises what reads
badly (``HeadlessChrome`` is Chrome, ``Other`` is unknown) and derives the
device type, which ``ua-parser`` does not report:

* iPad, or a device ``ua-parser`` calls a tablet, or Android without "Mobile"
  (Google's rule for Android tablets) is a **tablet**;
* iPhone, iPod, an Android phone or any UA saying "Mobile" is a **phone**;
* everything else is a **desktop**. iPadOS Safari asks for desktop pages and
  sends a Mac User-Agent, so it is counted as a desktop — the header cannot tell.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ua_parser import parse

_UNKNOWN = "Other"
# The browser stores at most this many characters per field (see store.models.DeviceCheck).
_FAMILY_LENGTH = 60
_VERSION_LENGTH = 30
_RENAMED = {"HeadlessChrome": "Chrome"}


class DeviceType(StrEnum):
    DESKTOP = "desktop"
    TABLET = "tablet"
    PHONE = "phone"


@dataclass(frozen=True)
class DeviceParameters:
    os_family: str | None
    os_version: str | None
    device_type: DeviceType
    device_model: str | None
    browser_family: str | None
    browser_version: str | None


def _version(*parts: str | None) -> str | None:
    present: list[str] = []
    for part in parts:
        if not part:
            break
        present.append(part)
    return ".".join(present)[:_VERSION_LENGTH] or None


def _family(name: str | None) -> str | None:
    if not name or name == _UNKNOWN:
        return None
    return _RENAMED.get(name, name)[:_FAMILY_LENGTH]


def _device_type(
    user_agent: str, os_family: str | None, model: str | None, brand: str
) -> DeviceType:
    if model == "iPad" or "tablet" in brand.lower():
        return DeviceType.TABLET
    if model in ("iPhone", "iPod") or "Mobile" in user_agent or "Phone" in user_agent:
        return DeviceType.PHONE
    if os_family == "Android":
        return DeviceType.TABLET
    return DeviceType.DESKTOP


class PermissionHelp(StrEnum):
    """Which browser's "allow camera and microphone" steps a blocked page shows first."""

    IOS = "ios"
    ANDROID = "android"
    FIREFOX = "firefox"
    SAFARI = "safari"
    CHROME = "chrome"  # Chrome, Edge and the other Chromium browsers share the steps


def permission_help(device: DeviceParameters) -> PermissionHelp:
    """Phones first: on iOS and Android the switch is in the system settings for every browser."""
    if device.os_family == "iOS":
        return PermissionHelp.IOS
    if device.os_family == "Android":
        return PermissionHelp.ANDROID
    browser = device.browser_family or ""
    if browser.startswith("Firefox"):
        return PermissionHelp.FIREFOX
    if browser.startswith("Safari"):
        return PermissionHelp.SAFARI
    return PermissionHelp.CHROME


def device_parameters(user_agent: str) -> DeviceParameters:
    """Parse a User-Agent header; unknown parts come back as ``None``, never as "Other"."""
    result = parse(user_agent)
    browser, os, device = result.user_agent, result.os, result.device
    os_family = _family(os.family if os else None)
    model = _family(device.model if device else None)
    brand = (device.brand or "") if device else ""
    device_type = _device_type(user_agent, os_family, model, brand)
    return DeviceParameters(
        os_family=os_family,
        os_version=_version(os.major, os.minor, os.patch) if os else None,
        device_type=device_type,
        device_model=model if device_type != DeviceType.DESKTOP else None,
        browser_family=_family(browser.family if browser else None),
        browser_version=_version(browser.major, browser.minor) if browser else None,
    )
