"""static/js/constants.js is what the generator makes of the Python definitions, and the
other browser modules take the server's constants from it instead of keeping copies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from videotermin.realtime.protocol import MAX_CHAT, PROTOCOL_VERSION, CloseCode, ErrorCode
from videotermin.web import browser_constants
from videotermin.web.browser_constants import COMMAND, TARGET, render

JS = TARGET.parent


def other_modules() -> dict[str, str]:
    return {
        path.name: path.read_text("utf-8") for path in sorted(JS.glob("*.js")) if path != TARGET
    }


def test_constants_js_is_what_the_generator_writes() -> None:
    assert TARGET.read_text("utf-8") == render(), (
        f"static/js/constants.js is out of date: run {COMMAND}"
    )


def test_main_writes_the_rendered_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "constants.js"
    monkeypatch.setattr(browser_constants, "TARGET", target)
    browser_constants.main()
    assert target.read_text("utf-8") == render()


def test_every_generated_constant_is_used_by_another_module() -> None:
    exported = re.findall(r"^export const (\w+)", render(), flags=re.M)
    assert exported, "constants.js exports nothing"
    imports = " ".join(
        " ".join(re.findall(r"import \{([^}]*)\} from '\./constants\.js'", text))
        for text in other_modules().values()
    )
    for name in exported:
        assert re.search(rf"\b{name}\b", imports), f"{name} is generated but imported nowhere"


def test_no_other_module_keeps_its_own_copy() -> None:
    codes = {str(int(code)) for code in CloseCode}
    copies = [
        (rf"\b({'|'.join(codes)})\b", "a close code"),
        (rf"length\s*[<>]=?\s*{MAX_CHAT}\b", "the chat limit"),
        (rf"\b{MAX_CHAT}\b.*chat|chat.*\b{MAX_CHAT}\b", "the chat limit"),
        (r"\b(PROTOCOL_VERSION|MAX_CHAT|FINAL_CLOSE_CODES|QUALITY_LIMITS)\s*=", "a constant"),
        (r"\bversion:\s*\d", "the protocol version"),
        (rf"['\"]({'|'.join(error.value for error in ErrorCode)})['\"]", "an error code"),
        (r"\[\s*300\s*,\s*600\s*\]|\b(300|600)\b.*(round|rtt)", "a quality threshold"),
    ]
    for name, text in other_modules().items():
        for number, line in enumerate(text.splitlines(), start=1):
            for pattern, what in copies:
                assert not re.search(pattern, line, flags=re.I), (
                    f"{name}:{number} keeps {what} of its own; import it from constants.js "
                    f"(run {COMMAND} after changing the Python definition): {line.strip()}"
                )


def test_the_values_are_the_servers() -> None:
    text = render()
    assert f"export const PROTOCOL_VERSION = {PROTOCOL_VERSION};" in text
    assert f"export const MAX_CHAT = {MAX_CHAT};" in text
    for code in CloseCode:
        assert f"  {code.name}: {int(code)},\n" in text, code
    for error in ErrorCode:
        assert f"  {error.name}: '{error.value}',\n" in text, error
