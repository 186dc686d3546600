"""Session cookie flags and the local-redirect rule, without a server."""

from __future__ import annotations

import pytest
from fastapi import Response

from videotermin.settings import Settings
from videotermin.web.cookies import safe_next, set_session_cookie


@pytest.mark.parametrize(
    ("public_url", "secure"),
    [("https://video.example.org", True), ("http://127.0.0.1:8000", False)],
)
def test_session_cookie_is_http_only_lax_and_secure_behind_https(
    public_url: str, secure: bool
) -> None:
    response = Response()

    set_session_cookie(response, Settings(public_url=public_url, session_hours=8), "t" * 32)

    cookie = response.headers["set-cookie"]
    assert cookie.startswith("vt_session=" + "t" * 32)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Max-Age=28800" in cookie
    assert ("Secure" in cookie) is secure


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("/termine/abc", "/termine/abc"),
        ("/termine?x=1", "/termine?x=1"),
        ("", "/termine"),
        (None, "/termine"),
        ("termine", "/termine"),
        ("//evil.example", "/termine"),
        ("/\\evil.example", "/termine"),
        ("/ok\\..\\evil", "/termine"),
        ("/\r\nSet-Cookie:x", "/termine"),
        ("https://evil.example/", "/termine"),
        ("javascript:alert(1)", "/termine"),
    ],
)
def test_only_local_paths_may_follow_a_login(candidate: str | None, expected: str) -> None:
    assert safe_next(candidate) == expected
