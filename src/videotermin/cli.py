"""``videotermin`` command line: serve, migrate, user, token, demo."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer

from videotermin.bus.factory import bus_for
from videotermin.context import AppContext
from videotermin.domain.clock import system_clock
from videotermin.domain.passwords import password_problem
from videotermin.domain.staff import STAFF_ROLES, StaffRole
from videotermin.services.api_tokens import create_token
from videotermin.services.staff_accounts import add_staff_user, deactivate_staff_user
from videotermin.services.units import unit_by_slug
from videotermin.settings import Settings, SettingsError, load_settings
from videotermin.store.db import create_engine, session_factory
from videotermin.store.migrate import upgrade

cli = typer.Typer(
    no_args_is_help=True, add_completion=False, help=__doc__, pretty_exceptions_enable=False
)
user_cli = typer.Typer(no_args_is_help=True, help="Staff accounts.")
token_cli = typer.Typer(no_args_is_help=True, help="API tokens for the integration API.")
cli.add_typer(user_cli, name="user")
cli.add_typer(token_cli, name="token")

ROLES = tuple(role.value for role in STAFF_ROLES)
T = TypeVar("T")


# A stopping instance waits this long for requests in flight, then its jobs stop (the
# outbox's own grace follows): a service manager should allow a minute.
GRACEFUL_SHUTDOWN_SECONDS = 30


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def with_context(settings: Settings, work: Callable[[AppContext], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(settings.database_url or "")
        ctx = AppContext(
            settings=settings,
            clock=system_clock,
            engine=engine,
            sessions=session_factory(engine),
            bus=bus_for(settings),  # what a command changes, the serving instances hear
        )
        try:
            return await work(ctx)
        finally:
            await ctx.bus.close()
            await engine.dispose()

    return asyncio.run(run())


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            help="Comma-separated addresses of the reverse proxy whose X-Forwarded-For and"
            " X-Forwarded-Proto are believed; a request from anywhere else keeps its own"
            " address and scheme.",
        ),
    ] = "127.0.0.1",
) -> None:
    """Serve the app with uvicorn (behind a reverse proxy such as nginx)."""
    import uvicorn

    from videotermin.app import create_app
    from videotermin.logs import setup_logging
    from videotermin.realtime.protocol import MAX_FRAME_BYTES

    settings = settings_or_exit()
    setup_logging()
    app = create_app(settings)
    # What exists now (modules, classes, templates, the app) lives as long as the process:
    # out of the collector's sight, a full collection no longer walks it every time.
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app,
        host=host,
        port=port,
        access_log=False,
        log_config=None,
        proxy_headers=True,
        ws_max_size=MAX_FRAME_BYTES,
        forwarded_allow_ips=forwarded_allow_ips,
        # On SIGTERM sockets are closed with 1012 (their pages reconnect to another
        # instance) and requests in flight get this long to finish.
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )


@cli.command("publish-static")
def publish_static(
    target: Annotated[Path, typer.Argument(help="Folder nginx serves /static/ from.")],
) -> None:
    """Copy the browser's files to TARGET/<version>/, with a gzip copy of each text file,
    for nginx to serve (deploy/nginx/videotermin.conf). Run it after every install or
    upgrade, before the instances restart; earlier versions stay for open pages."""
    from videotermin.web.static_files import publish

    target.mkdir(parents=True, exist_ok=True)
    typer.echo(f"published {publish(target)}")


@cli.command()
def migrate() -> None:
    """Create or upgrade the database schema and the default unit."""
    settings = settings_or_exit()
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def work(ctx: AppContext) -> None:
        await upgrade(ctx.engine, settings.timezone)

    with_context(settings, work)
    typer.echo("database is up to date")


@user_cli.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option(help="advisor, support or admin.")] = "advisor",
    unit: Annotated[str | None, typer.Option(help="Unit slug; default unit if omitted.")] = None,
    display_name: Annotated[str | None, typer.Option(help="Name shown to citizens.")] = None,
    email: Annotated[str, typer.Option(help="Contact e-mail shown in invitations.")] = "",
    phone: Annotated[str, typer.Option(help="Contact phone shown in invitations.")] = "",
) -> None:
    """Add a staff account. Password from VIDEOTERMIN_PASSWORD or a prompt."""
    if role not in ROLES:
        fail(f"role must be one of {', '.join(ROLES)}")
    password = os.environ.get("VIDEOTERMIN_PASSWORD") or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    if problem := password_problem(password):
        fail(f"password too weak: {problem}")
    settings = settings_or_exit()

    async def work(ctx: AppContext) -> None:
        async with ctx.sessions() as session:
            found = await unit_by_slug(session, unit)
        if found is None:
            fail(f"no unit {unit!r}")
        async with ctx.sessions() as session, session.begin():
            added = await add_staff_user(
                session,
                ctx,
                username=name,
                password=password,
                role=StaffRole(role),
                unit=found,
                display_name=display_name,
                email=email,
                phone=phone,
            )
            if added is None:
                fail(f"user {name!r} exists already")

    with_context(settings, work)
    typer.echo(f"user {name} added with role {role}")


@user_cli.command("deactivate")
def user_deactivate(name: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Deactivate a staff account: no more logins, its sessions end. With
    VIDEOTERMIN_REDIS_URL set, its open live lists and calls close at once; on the
    embedded default within the sockets' safety re-read (about a minute)."""
    settings = settings_or_exit()

    async def work(ctx: AppContext) -> bool:
        return await deactivate_staff_user(ctx, name)

    if not with_context(settings, work):
        fail(f"no user {name!r}")
    typer.echo(f"user {name} deactivated")


@token_cli.command("create")
def token_create(name: Annotated[str, typer.Argument(help="What the token is for.")]) -> None:
    """Create an API bearer token and print it once; only its hash is stored."""
    settings = settings_or_exit()

    async def work(ctx: AppContext) -> str:
        async with ctx.sessions() as session, session.begin():
            token = await create_token(session, name, ctx.clock())
        if token is None:
            fail(f"a token named {name!r} exists already")
        return token

    typer.echo(with_context(settings, work))


@cli.command()
def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be erased, by kind; change nothing.")
    ] = False,
) -> None:
    """Erase personal data whose retention period is over (the app also does this hourly)."""
    from videotermin.jobs.retention import purge as run_purge
    from videotermin.jobs.retention import would_purge

    settings = settings_or_exit()
    report = with_context(settings, would_purge if dry_run else run_purge)
    if report is None:
        typer.echo("another instance is purging right now; nothing done")
        return
    if dry_run:
        typer.echo("would erase (nothing changed):")
        for kind, rows in report.by_kind().items():
            typer.echo(f"  {kind:<14} {rows}")
        return
    typer.echo(
        f"erased: {report.participants} participants, personal data of "
        f"{report.appointments} appointments and {report.device_checks} device checks; "
        f"{report.sessions} expired staff sessions; {report.audit_entries} audit entries; "
        f"{report.mail_files} mail files"
    )


@cli.command()
def demo() -> None:
    """Seed a demo: contact data for the default unit, an admin, an advisor and an appointment
    starting in ten minutes. Prints the staff logins and the citizen's link."""
    from videotermin.services.demo import seed_demo

    settings = settings_or_exit()
    result = with_context(settings, seed_demo)
    typer.echo("")
    typer.echo("Demo ready.")
    typer.echo(f"  Staff login:  {settings.public_url}/login")
    for username, password in result.logins:
        typer.echo(f"    {username:<8} password: {password}")
    typer.echo(f"  Citizen link: {result.citizen_link}")
    typer.echo(f"  Mails are written to {settings.mail_dir.resolve()}")
    typer.echo("")


def main() -> None:
    cli()
