"""Failure class "bad input" on the integration API: Schemathesis reads
``/api/v1/openapi.json`` from the running app and sends what it generates from it —
bodies, path parameters and bearer tokens, valid and invalid — to every operation over
real HTTP, then chains them statefully (create, read, move, add, resend, remove, cancel)
along the links it infers from the response schemas and path parameters (the document
declares none). No answer may be a 5xx, and every answer must match the document:
its status code, content type and body schema.

Runs on PostgreSQL, the stricter store (no NUL in text).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conftest import IN_CI, NOW, LiveServer
from videotermin.domain.tokens import hash_token, new_token
from videotermin.store.models import ApiToken, StaffUser

pytestmark = pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)

EXAMPLES_PER_OPERATION = 60
STATEFUL_SCENARIOS = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

OPERATIONS = {
    "POST /appointments",
    "GET /appointments/{appointment_id}",
    "PATCH /appointments/{appointment_id}",
    "POST /appointments/{appointment_id}/cancel",
    "POST /appointments/{appointment_id}/participants",
    "DELETE /appointments/{appointment_id}/participants/{participant_id}",
    "POST /appointments/{appointment_id}/participants/{participant_id}/resend",
}

TOMORROW = NOW + timedelta(days=1)
participants = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(["Clara Kundin", "مريم الحسيني", "Ivan Dolmetscher"]),
            "email": st.sampled_from(["clara@example.org", "ivan@example.org"]),
        },
        optional={"role": st.sampled_from(["citizen", "interpreter", "companion"])},
    ),
    min_size=1,
    max_size=3,
)
bookable = st.fixed_dictionaries(
    {
        "start": st.integers(0, 48).map(
            lambda quarters: (TOMORROW + timedelta(minutes=15 * quarters)).isoformat()
        ),
        "duration_minutes": st.sampled_from([15, 30, 45, 60]),
        "advisor": st.just("berater"),
        "participants": participants,
    },
    optional={"subject": st.sampled_from(["Beratung", "Termin <b>", "موعد"])},
)
"""Bodies the rules accept (a known advisor, a start within the bookable months), so the
stateful chains get appointments to work on; the generated bodies stay in the mix."""


@pytest.fixture
async def api_token(db: async_sessionmaker[AsyncSession], advisor: StaffUser) -> str:
    token = new_token()
    async with db() as session, session.begin():
        session.add(ApiToken(name="fachverfahren", token_hash=hash_token(token), created_at=NOW))
    return token


def load(url: str, token: str, *, only_bookable: bool = False) -> Any:
    """The document as the running app serves it; every call carries the token (a missing
    or wrong one is refused with 401 before anything is read, tested elsewhere), and
    half the new appointments can be booked."""
    schema = schemathesis.openapi.from_url(url + "/api/v1/openapi.json")
    schema.config.generation.update(with_security_parameters=False)

    @schema.auth()
    class Bearer:
        def get(self, case: Any, ctx: Any) -> str:
            return token

        def set(self, case: Any, data: str, ctx: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    @schema.hook
    def before_generate_body(context: Any, strategy: st.SearchStrategy[Any]) -> Any:
        operation = context.operation
        if operation is not None and (operation.method, operation.path) == (
            "post",
            "/appointments",
        ):
            return bookable if only_bookable else st.one_of(strategy, bookable)
        return strategy

    return schema


def validate(response: Any, case: Any) -> None:
    """No server error, and the answer the document promises."""
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    case.validate_response(response, checks=CHECKS)


def run_operations(url: str, token: str, tally: Counter[str]) -> None:
    schema = load(url, token)
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            database=None,
            deadline=None,
            phases=(Phase.explicit, Phase.generate),
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def answers_within_the_document(case: Any) -> None:
            response = case.call()
            tally[f"{case.method.upper()} {case.path} {response.status_code}"] += 1
            validate(response, case)

        answers_within_the_document()


def run_stateful(url: str, token: str, tally: Counter[str]) -> None:
    """Chains of calls along the inferred links, from valid data: an appointment made in
    one step is read, moved, given participants and cancelled in the next."""
    schema = load(url, token, only_bookable=True)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            tally[f"{case.method.upper()} {case.path} {response.status_code}"] += 1
            validate(response, case)

    run_state_machine_as_test(
        Workflow,
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=8,
            derandomize=True,
            database=None,
            deadline=None,
            phases=(Phase.explicit, Phase.generate),
            suppress_health_check=list(HealthCheck),
        ),
    )


async def test_every_api_operation_answers_within_its_document_and_never_5xx(
    live_server: LiveServer, api_token: str
) -> None:
    single: Counter[str] = Counter()
    chained: Counter[str] = Counter()
    started = time.monotonic()
    await asyncio.to_thread(run_operations, live_server.url, api_token, single)
    await asyncio.to_thread(run_stateful, live_server.url, api_token, chained)
    print(
        f"\nschemathesis: {sum(single.values())} single cases, {sum(chained.values())} calls in "
        f"{STATEFUL_SCENARIOS} stateful scenarios, {time.monotonic() - started:.1f} s\n"
        f"single: {dict(sorted(single.items()))}\nchained: {dict(sorted(chained.items()))}"
    )
    assert {name.rsplit(" ", 1)[0] for name in single} == OPERATIONS
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        assert (await client.get("/healthz")).status_code == 200
    if IN_CI:  # the chains reached appointments they made: read, moved, cancelled
        made = {name for name, count in chained.items() if name.endswith((" 200", " 201"))}
        assert {"POST /appointments 201", "GET /appointments/{appointment_id} 200"} <= made
