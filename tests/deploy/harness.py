"""Starting workers and the shipped deployment files: ``pikir serve`` processes (one shared way
for every several-worker test and benchmark), the nginx site (with only its ports changed) and
workers launched by the systemd unit's own ``ExecStart`` line with its environment file."""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.coordination.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
NGINX_SITE = ROOT / "deploy" / "nginx" / "pikir.conf"
UNIT = ROOT / "deploy" / "systemd" / "pikir@.service"
# Where the unit expects the code; the tests run the checkout in its place.
INSTALL_DIR = "/opt/pikir"
NGINX = "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def render_site(listen: int, workers: list[int]) -> str:
    """The shipped site listening on ``listen`` in front of ``workers``; nothing else changes."""
    text = NGINX_SITE.read_text()
    upstream = re.search(r"upstream pikir_workers \{.*?\n\}", text, re.S)
    assert upstream is not None, "the site has no pikir_workers upstream"
    block = upstream.group(0)
    shipped = re.findall(r"^\s*server 127\.0\.0\.1:\d+ (.*);$", block, re.M)
    assert shipped, "the upstream lists no workers"
    servers = "".join(f"    server 127.0.0.1:{port} {shipped[0]};\n" for port in workers)
    rendered = re.sub(r"(?m)^\s*server 127\.0\.0\.1:\d+ .*;\n", "", block)
    rendered = rendered.replace(
        "upstream pikir_workers {\n", "upstream pikir_workers {\n" + servers
    )
    text = text.replace(block, rendered)
    text, listens = re.subn(r"(?m)^(\s*)listen 80;$", rf"\g<1>listen 127.0.0.1:{listen};", text)
    assert listens == 1, "the site should listen once, on port 80"
    return text


@dataclass
class Nginx:
    """Debian's nginx in the foreground with a prefix of its own and the rendered site."""

    prefix: Path
    port: int
    workers: list[int]
    process: subprocess.Popen[str] | None = None

    def main_config(self) -> Path:
        (self.prefix / "logs").mkdir(parents=True, exist_ok=True)
        (self.prefix / "pikir.conf").write_text(render_site(self.port, self.workers))
        temp = self.prefix / "temp"
        temp.mkdir(exist_ok=True)
        # As root, nginx's workers would switch to a user who cannot enter pytest's directory.
        user = "user root;\n" if os.geteuid() == 0 else ""
        config = self.prefix / "nginx.conf"
        config.write_text(
            f"{user}daemon off;\nworker_processes 1;\npid nginx.pid;\n"
            f"error_log {self.prefix}/logs/error.log warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            f"  access_log {self.prefix}/logs/access.log;\n"
            f"  client_body_temp_path {temp}/body;\n  proxy_temp_path {temp}/proxy;\n"
            f"  fastcgi_temp_path {temp}/fastcgi;\n  uwsgi_temp_path {temp}/uwsgi;\n"
            f"  scgi_temp_path {temp}/scgi;\n"
            f"  include {self.prefix}/pikir.conf;\n"
            "}\n"
        )
        return config

    def start(self) -> None:
        if not Path(NGINX).exists():
            pytest.fail("nginx is missing: install the nginx package (.ci/run does)")
        config = self.main_config()
        check = subprocess.run(
            [NGINX, "-t", "-p", str(self.prefix), "-c", str(config), "-e", "stderr"],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stderr
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.prefix), "-c", str(config), "-e", "stderr"],
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for(lambda: status(f"http://127.0.0.1:{self.port}/healthz") is not None, 10)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.communicate(timeout=10)


def unit_lines(path: Path = UNIT) -> dict[str, list[str]]:
    """``key`` → its values in the unit's [Service] section, as systemd reads them."""
    values: dict[str, list[str]] = {}
    section = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]":
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def read_environment_file(path: Path) -> dict[str, str]:
    """An ``EnvironmentFile``: KEY=value lines, comments, optional quotes around the value."""
    environment = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        environment[key.strip()] = value
    return environment


@dataclass
class WorkerProcess:
    """One running ``pikir serve`` on ``port``; what it prints goes to the file ``log``."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path | None

    def output(self) -> str:
        """Everything the worker printed so far."""
        return self.log.read_text(errors="replace") if self.log is not None else ""

    def readiness(self) -> dict[str, str] | None:
        """The worker's ``/readyz`` answer (None while nothing answers)."""
        try:
            url = f"http://127.0.0.1:{self.port}/readyz"
            with urllib.request.urlopen(url, timeout=5) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as error:
            return dict(json.loads(error.read() or b"{}"))
        except (OSError, ValueError):
            return None

    def ready(self) -> bool:
        return status(f"http://127.0.0.1:{self.port}/readyz") == 200

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as systemd stops a unit; the exit status."""
        if self.running():
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL: no goodbye, its connections and its leases just stop."""
        self.process.kill()
        self.process.wait(timeout=10)


def launch(
    argv: list[str], environment: dict[str, str], cwd: Path, port: int, log: Path | None
) -> WorkerProcess:
    """Start ``argv`` as the worker on ``port``, its output to ``log`` (None: discarded).

    A file, not a pipe: a pipe nobody reads stalls a worker that logs a lot.
    """
    if log is None:
        process = subprocess.Popen(
            argv, env=environment, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
    else:
        with log.open("wb") as output:
            process = subprocess.Popen(
                argv, env=environment, cwd=cwd, stdout=output, stderr=subprocess.STDOUT
            )
    return WorkerProcess(port, process, log)


def serve_environment(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without any ``PIKIR_`` setting, plus ``settings``."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PIKIR_")}
    return inherited | settings


def start_worker(port: int, settings: dict[str, str], log_dir: Path | None) -> WorkerProcess:
    """``pikir serve`` on ``port`` with ``settings`` (``PIKIR_…`` variables); not waited for."""
    log = None
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        log = log_dir / f"worker-{port}.log"
    environment = serve_environment(settings | {"PIKIR_HTTP__PORT": str(port)})
    return launch([sys.executable, "-m", "bot.main", "serve"], environment, ROOT, port, log)


def start_workers(
    ports: list[int],
    settings: dict[str, str],
    log_dir: Path | None,
    *,
    one_by_one: bool = False,
    within: float = 120,
) -> list[WorkerProcess]:
    """A ``pikir serve`` per port, all at once or ``one_by_one``, each waited for until ready.

    A worker that exits while starting fails the caller with what it printed.
    """
    workers: list[WorkerProcess] = []

    def wait_ready(group: list[WorkerProcess]) -> None:
        deadline = time.monotonic() + within
        while not all(worker.ready() for worker in group):
            for worker in group:
                if not worker.running():
                    code = worker.process.returncode
                    raise AssertionError(
                        f"worker {worker.port} exited with {code}:\n{worker.output()}"
                    )
            if time.monotonic() > deadline:
                raise AssertionError("the workers did not get ready in time")
            time.sleep(0.3)

    try:
        for port in ports:
            workers.append(start_worker(port, settings, log_dir))
            if one_by_one:
                wait_ready(workers[-1:])
        wait_ready(workers)
    except BaseException:
        stop_all(workers)
        raise
    return workers


def stop_all(workers: list[WorkerProcess]) -> None:
    """SIGTERM every worker still running and wait for each."""
    for worker in workers:
        if worker.running():
            worker.process.send_signal(signal.SIGTERM)
    for worker in workers:
        worker.process.wait(timeout=30)


@dataclass
class UnitWorker:
    """One ``pikir@<port>.service`` instance, started as systemd would start it."""

    port: int
    environment_file: Path
    worker: WorkerProcess | None = None
    log: list[str] = field(default_factory=list)

    def command(self) -> tuple[list[str], dict[str, str], Path]:
        """The ExecStart argv, the environment and the working directory of the instance."""
        service = unit_lines()
        [exec_start] = service["ExecStart"]
        [workdir] = service["WorkingDirectory"]
        [shipped_env_file] = service["EnvironmentFile"]
        assert shipped_env_file.lstrip("-").startswith("/etc/pikir/")
        argv = [part.replace(INSTALL_DIR, str(ROOT)) for part in shlex.split(exec_start)]
        environment = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        environment |= read_environment_file(self.environment_file)
        for assignment in service.get("Environment", []):
            for pair in shlex.split(assignment.replace("%i", str(self.port))):
                key, _, value = pair.partition("=")
                environment[key] = value
        return argv, environment, Path(workdir.replace(INSTALL_DIR, str(ROOT)))

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return None if self.worker is None else self.worker.process

    def start(self) -> None:
        argv, environment, workdir = self.command()
        log = self.environment_file.parent / f"unit-worker-{self.port}.log"
        self.worker = launch(argv, environment, workdir, self.port, log)

    def ready(self) -> bool:
        return status(f"http://127.0.0.1:{self.port}/readyz") == 200

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as the unit's KillSignal; the exit status."""
        assert self.worker is not None
        code = self.worker.stop(timeout)
        self.log.append(self.worker.output())
        return code


@contextmanager
def running_units(ports: list[int], environment_file: Path) -> Iterator[list[UnitWorker]]:
    """An instance of the unit per port, started one after the other (the first migrates),
    each waited for; stopped afterwards, what each printed shown (pytest shows it when the
    test failed)."""
    started: list[UnitWorker] = []
    try:
        for port in ports:
            started.append(UnitWorker(port, environment_file))
            started[-1].start()
            wait_for(started[-1].ready, 120)
        yield started
    finally:
        for worker in started:
            if worker.process is not None and worker.process.poll() is None:
                worker.stop()
        for worker in started:
            print(f"worker {worker.port}:", *worker.log, sep="\n")


def status(url: str, headers: dict[str, str] | None = None) -> int | None:
    """The HTTP status of a GET (None when nothing answers)."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return None


def wait_for(predicate: Callable[[], object], seconds: float) -> None:
    """Poll ``predicate`` until it is truthy."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("not in time")


def shared_settings(database_url: str, data_dir: Path, *, redis: bool = True) -> dict[str, str]:
    """What the workers of one deployment share: the database, the data directory, the secret
    key and, with ``redis``, Redis under a key prefix of the test's own."""
    settings = {
        "PIKIR_DATABASE__URL": database_url,
        "PIKIR_DATA_DIR": str(data_dir),
        "PIKIR_SECURITY__SECRET_KEY": "one secret key shared by every worker",
    }
    if redis:
        settings["PIKIR_REDIS__URL"] = REDIS_URL
        settings["PIKIR_REDIS__PREFIX"] = f"pikir-test:{secrets.token_hex(4)}:"
    return settings


def json_environment(values: Mapping[str, object]) -> str:
    """An environment file's text for ``values`` (lists and dicts as JSON, as the settings read)."""
    lines = []
    for key, value in values.items():
        text = value if isinstance(value, str) else json.dumps(value)
        lines.append(f"{key}='{text}'")
    return "\n".join(lines) + "\n"
