"""Production's shape for tests: real ``videotermin serve`` processes on one PostgreSQL
database and one Redis, behind a real nginx running the shipped site file
(``deploy/nginx/videotermin.conf``).

The nginx configuration is that file with only ports and paths replaced — the upstream's
``server`` lines, the ``listen`` lines (IPv4 loopback only), the certificate, the log
folder and the folder ``videotermin publish-static`` wrote — inside a minimal main
configuration standing in for Debian's ``/etc/nginx/nginx.conf``. Every replacement must
find its text exactly as often as expected, so a changed site file fails here instead
of being tested in a form nobody ships.

A test may ask for *pinned* entrances: more copies of the HTTPS ``server`` block on ports
of their own, each with its own upstream of the same instances in a fixed order, the
first one primary and the others ``backup``. A browser on such a port reaches a known
instance while it lives, and nginx's own failover when it dies.

The processes run on the real clock. Plain functions and classes, imported by the tests
(``from app_processes import ...``), like the helpers beside ``conftest.py``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from redis import Redis

from conftest import free_port, skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
SITE_FILE = ROOT / "deploy" / "nginx" / "videotermin.conf"
NGINX = "/usr/sbin/nginx"
REDIS_URL = "redis://127.0.0.1:6379/0"
VIDEOTERMIN = Path(sys.executable).parent / "videotermin"
START_SECONDS = 40.0


# --- the app processes --------------------------------------------------------


def require_redis() -> None:
    """Skip loudly (fail under CI) unless the tests' Redis answers."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except Exception as error:
        skip_or_fail(f"Redis at {REDIS_URL} is not reachable: {error!r}")
    finally:
        client.close()


def app_environment(database_url: str, public_url: str, data_dir: Path) -> dict[str, str]:
    """The environment of one deployment: the caller's, without any VIDEOTERMIN_ setting
    of its own, plus the database, Redis under a channel prefix of this test's own, and
    the public address (nginx's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEOTERMIN_")}
    env.update(
        VIDEOTERMIN_DATABASE_URL=database_url,
        VIDEOTERMIN_REDIS_URL=REDIS_URL,
        VIDEOTERMIN_REDIS_CHANNEL_PREFIX=f"vt-nginx-{uuid.uuid4().hex[:12]}",
        VIDEOTERMIN_PUBLIC_URL=public_url,
        VIDEOTERMIN_DATA_DIR=str(data_dir),
        VIDEOTERMIN_MAIL_FROM="Videotermin <noreply@agentur.example>",
    )
    return env


@dataclass
class AppProcess:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


class AppProcesses:
    """``videotermin serve`` processes of one deployment, started and ready."""

    def __init__(self, env: Mapping[str, str], folder: Path) -> None:
        self.env = dict(env)
        self.folder = folder
        self.apps: list[AppProcess] = []

    def __getitem__(self, index: int) -> AppProcess:
        return self.apps[index]

    @property
    def ports(self) -> list[int]:
        return [app.port for app in self.apps]

    def start(self, count: int) -> None:
        if not VIDEOTERMIN.exists():
            skip_or_fail(f"{VIDEOTERMIN} is missing (pip install -e .)")
        for _ in range(count):
            port = free_port()
            log = self.folder / f"app-{port}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [str(VIDEOTERMIN), "serve", "--host", "127.0.0.1", "--port", str(port)],
                    env=self.env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            self.apps.append(AppProcess(port, process, log))
        for app in self.apps:
            self._wait_ready(app)

    def _wait_ready(self, app: AppProcess) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if app.process.poll() is not None:
                raise RuntimeError(f"instance on {app.port} exited:\n{app.log_tail()}")
            try:
                if httpx.get(f"{app.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"instance on {app.port} not ready:\n{app.log_tail()}")

    def kill(self, index: int) -> None:
        """SIGKILL: the instance dies at once, announcing nothing (a crash, a lost host)."""
        self._end(self.apps[index], signal.SIGKILL)

    def stop(self, index: int) -> None:
        """SIGTERM: uvicorn's graceful shutdown, as systemd stops an instance."""
        self._end(self.apps[index], signal.SIGTERM)

    @staticmethod
    def _end(app: AppProcess, sig: signal.Signals) -> None:
        if app.process.poll() is None:
            app.process.send_signal(sig)
        try:
            app.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            app.process.kill()
            app.process.wait(timeout=10)

    def close(self) -> None:
        for app in self.apps:
            self._end(app, signal.SIGTERM)


# --- the certificate -----------------------------------------------------------


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A two-day certificate for 127.0.0.1 and localhost; (certificate, key) files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "fullchain.pem", folder / "privkey.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


# --- the site file, with ports and paths of the test ---------------------------


def replace_exactly(text: str, old: str, new: str, count: int = 1) -> str:
    """``old`` replaced in the directives (comments stay as shipped), found ``count`` times."""
    lines = text.splitlines(keepends=True)
    found = sum(line.count(old) for line in lines if not line.lstrip().startswith("#"))
    if found != count:
        raise AssertionError(f"{SITE_FILE.name}: expected {old!r} {count}x, found {found}x")
    return "".join(
        line if line.lstrip().startswith("#") else line.replace(old, new) for line in lines
    )


_UPSTREAM = re.compile(r"upstream videotermin \{\n(?P<body>.*?)\n\}", re.S)
_SERVER_LINE = re.compile(r"^(\s*)server 127\.0\.0\.1:\d+ (?P<params>[^;]*);$", re.M)


def server_block(text: str, marker: str) -> str:
    """The top-level ``server { ... }`` block whose text contains ``marker``."""
    for start in (m.start() for m in re.finditer(r"^server \{", text, re.M)):
        depth = 0
        for end in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0 and text[end] == "}":
                block = text[start : end + 1]
                if marker in block:
                    return block
                break
    raise AssertionError(f"{SITE_FILE.name}: no server block with {marker!r}")


@dataclass(frozen=True)
class SitePorts:
    http: int
    https: int
    pinned: dict[int, list[int]] = field(default_factory=dict)
    """Extra HTTPS port → instance ports, the first primary and the rest backup."""


def site_config(
    ports: SitePorts,
    instances: Sequence[int],
    *,
    certificate: tuple[Path, Path],
    logs: Path,
    www: Path,
) -> str:
    """The shipped site file with the test's ports and paths."""
    text = SITE_FILE.read_text(encoding="utf-8")
    upstream = _UPSTREAM.search(text)
    assert upstream, f"{SITE_FILE.name}: no upstream videotermin"
    lines = list(_SERVER_LINE.finditer(upstream["body"]))
    assert len(lines) >= 2, f"{SITE_FILE.name}: the upstream lists fewer than two instances"
    indent, params = lines[0].group(1), lines[0]["params"]
    servers = "\n".join(f"{indent}server 127.0.0.1:{port} {params};" for port in instances)
    body = _SERVER_LINE.sub("", upstream["body"]).strip("\n")
    body = re.sub(r"\n\s*\n", "\n", body)
    text = text.replace(upstream["body"], f"{servers}\n{body}")

    text = replace_exactly(text, "    listen [::]:80;\n", "")
    text = replace_exactly(text, "    listen [::]:443 ssl http2;\n", "")
    text = replace_exactly(text, "listen 80;", f"listen 127.0.0.1:{ports.http};")
    text = replace_exactly(
        text, "listen 443 ssl http2;", f"listen 127.0.0.1:{ports.https} ssl http2;"
    )
    text = replace_exactly(text, "/etc/ssl/videotermin/fullchain.pem", str(certificate[0]))
    text = replace_exactly(text, "/etc/ssl/videotermin/privkey.pem", str(certificate[1]))
    text = replace_exactly(text, "/var/log/nginx/", f"{logs}/", count=5)
    text = replace_exactly(text, "root /var/www/videotermin;", f"root {www};")
    text = replace_exactly(text, "/var/www/letsencrypt", str(logs.parent / "acme"))

    main = server_block(text, f"listen 127.0.0.1:{ports.https} ssl")
    for number, (port, order) in enumerate(ports.pinned.items()):
        name = f"videotermin_pinned_{number}"
        members = [f"{indent}server 127.0.0.1:{order[0]} {params};"]
        members += [f"{indent}server 127.0.0.1:{p} {params} backup;" for p in order[1:]]
        text += f"\nupstream {name} {{\n" + "\n".join(members) + f"\n{body}\n}}\n"
        copy = main.replace(f"listen 127.0.0.1:{ports.https} ", f"listen 127.0.0.1:{port} ")
        text += "\n" + copy.replace("proxy_pass http://videotermin;", f"proxy_pass http://{name};")
    return text


def main_config(folder: Path, site: Path) -> str:
    """What Debian's /etc/nginx/nginx.conf is in production, as little of it as runs:
    everything nginx writes stays in ``folder``."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # else workers would be nobody
    temp = "".join(
        f"{kind}_temp_path {folder}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}daemon off;\nworker_processes 1;\nworker_shutdown_timeout 2s;\n"
        f"pid {folder}/nginx.pid;\n"
        f"error_log {folder}/main-error.log info;\n"
        "events { worker_connections 512; }\n"
        "http {\n"
        "include /etc/nginx/mime.types;\ndefault_type application/octet-stream;\n"
        f"access_log {folder}/main-access.log;\n{temp}"
        f"include {site};\n"
        "}\n"
    )


# --- nginx ------------------------------------------------------------------------


@dataclass
class Nginx:
    ports: SitePorts
    folder: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.ports.https}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.http}"

    def pinned_url(self, port: int) -> str:
        assert port in self.ports.pinned
        return f"https://127.0.0.1:{port}"

    @property
    def access_log(self) -> Path:
        return self.folder / "logs" / "videotermin.access.log"

    @property
    def error_logs(self) -> list[Path]:
        return [self.folder / "logs" / "videotermin.error.log", self.folder / "main-error.log"]

    def logs_text(self) -> str:
        paths = [self.access_log, *self.error_logs, self.folder / "main-access.log"]
        return "".join(p.read_text(errors="replace") for p in paths if p.exists())

    def stop(self) -> None:
        """Gracefully (SIGQUIT: requests finish and are logged); open WebSockets are cut
        after the configured worker_shutdown_timeout."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def nginx_available() -> bool:
    return os.path.exists(NGINX)


def start_nginx(ports: SitePorts, instances: Sequence[int], folder: Path) -> Nginx:
    """nginx on ``ports`` in front of ``instances``, everything it writes in ``folder``;
    publishes the app's static files there first, as an installation does."""
    if not nginx_available():
        skip_or_fail(f"{NGINX} is missing (apt-get install nginx-light)")
    logs, www = folder / "logs", folder / "www"
    for made in (logs, www, folder / "acme"):
        made.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(VIDEOTERMIN), "publish-static", str(www / "static")],
        check=True,
        capture_output=True,
    )
    site = folder / "videotermin.conf"
    site.write_text(
        site_config(
            ports, instances, certificate=self_signed_certificate(folder), logs=logs, www=www
        ),
        encoding="utf-8",
    )
    conf = folder / "nginx.conf"
    conf.write_text(main_config(folder, site), encoding="utf-8")
    command = [NGINX, "-p", str(folder), "-c", str(conf), "-e", str(folder / "main-error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx -t refused the configuration:\n{checked.stderr}")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    nginx = Nginx(ports, folder, process)
    deadline = time.monotonic() + 10
    for port in (ports.https, ports.http, *ports.pinned):
        while not _accepts(port):
            if process.poll() is not None or time.monotonic() > deadline:
                nginx.stop()
                errors = (folder / "main-error.log").read_text(errors="replace")
                raise RuntimeError(f"nginx did not start:\n{errors}")
            time.sleep(0.05)
    return nginx


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def insecure_tls() -> ssl.SSLContext:
    """A client context that accepts the test's self-signed certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


# --- one deployment ----------------------------------------------------------------


@dataclass
class Deployment:
    apps: AppProcesses
    nginx: Nginx


@contextmanager
def deployment(
    database_url: str, folder: Path, *, instances: int = 2, pinned: int = 0
) -> Iterator[Deployment]:
    """``instances`` app processes behind nginx; with ``pinned``, that many extra HTTPS
    ports, the n-th with instance n primary (the others its backups). The public
    address is the first pinned port's, or nginx's main one."""
    if not nginx_available():
        skip_or_fail(f"{NGINX} is missing (apt-get install nginx-light)")
    require_redis()
    extra = [free_port() for _ in range(pinned)]
    http, https = free_port(), free_port()
    public = f"https://127.0.0.1:{extra[0] if extra else https}"
    apps = AppProcesses(app_environment(database_url, public, folder / "var"), folder)
    try:
        apps.start(instances)
        ports = apps.ports
        order = {port: ports[n:] + ports[:n] for n, port in enumerate(extra)}
        nginx = start_nginx(SitePorts(http, https, order), ports, folder / "nginx")
        try:
            yield Deployment(apps, nginx)
        finally:
            nginx.stop()
    finally:
        apps.close()
