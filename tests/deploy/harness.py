"""Starting the shipped deployment files: the nginx site (with only its ports changed) and
workers launched by the systemd unit's own ``ExecStart`` line with its environment file."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

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
class UnitWorker:
    """One ``pikir@<port>.service`` instance, started as systemd would start it."""

    port: int
    environment_file: Path
    process: subprocess.Popen[str] | None = None
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

    def start(self) -> None:
        argv, environment, workdir = self.command()
        self.process = subprocess.Popen(
            argv,
            env=environment,
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def ready(self) -> bool:
        return status(f"http://127.0.0.1:{self.port}/readyz") == 200

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as the unit's KillSignal; the exit status."""
        assert self.process is not None
        self.process.terminate()
        output, _ = self.process.communicate(timeout=timeout)
        self.log.append(output)
        return self.process.returncode


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


def json_environment(values: dict[str, object]) -> str:
    """An environment file's text for ``values`` (lists and dicts as JSON, as the settings read)."""
    lines = []
    for key, value in values.items():
        text = value if isinstance(value, str) else json.dumps(value)
        lines.append(f"{key}='{text}'")
    return "\n".join(lines) + "\n"
