"""The shipped ``pikir@.service`` run by a real systemd (booted in namespaces of its own, see
systemd_namespace.py): installed as deploy/README.md says, with the drop-in an operator writes
for code that lives elsewhere than /opt/pikir, started, killed, restarted and stopped."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.deploy.harness import (
    ROOT,
    UNIT,
    free_port,
    json_environment,
    shared_settings,
    status,
    wait_for,
)
from tests.deploy.systemd_namespace import SERVICE_USER, BootedSystemd, booted_systemd

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

DATA_DIR = Path("/var/lib/pikir")


def checkout_drop_in(environment_file: Path) -> str:
    """What an operator overrides when the code is this checkout: where the code and the
    settings are. The user, the data directory and the hardening stay as shipped."""
    text = (
        "[Service]\n"
        f"WorkingDirectory={ROOT}\n"
        "ExecStart=\n"
        f"ExecStart={ROOT}/.venv/bin/pikir serve\n"
        "EnvironmentFile=\n"
        f"EnvironmentFile={environment_file}\n"
    )
    interpreter = Path(sys.base_prefix)
    if interpreter.is_relative_to("/root") or interpreter.is_relative_to("/home"):
        # ProtectHome=yes hides the home directories, and with them a Python installed there
        # (pyenv, uv's own): they stay hidden but for that one directory, read-only.
        text += f"ProtectHome=tmpfs\nBindReadOnlyPaths={interpreter}\n"
    if any(ROOT.is_relative_to(shared) for shared in ("/tmp", "/var/tmp")):
        # PrivateTmp=yes gives the service an empty /tmp and /var/tmp: a checkout in one of
        # them (a CI clone) is bound into it, read-only.
        text += f"BindReadOnlyPaths={ROOT}\n"
    return text


def ready(port: int) -> bool:
    return status(f"http://127.0.0.1:{port}/readyz") == 200


def exits_of(systemd: BootedSystemd, unit: str) -> list[str]:
    """How the unit's main process ended, each time, as systemd logged it (the log is copied
    from its terminal as it comes: the newest lines may still be on their way)."""
    marker = f"{unit}: Main process exited, "
    return [line.split(marker, 1)[1] for line in systemd.console().splitlines() if marker in line]


def test_systemd_runs_restarts_and_stops_the_shipped_unit(
    empty_postgres: str, tmp_path: Path
) -> None:
    port = free_port()
    environment_file = tmp_path / "pikir.env"
    environment_file.write_text(json_environment(shared_settings(empty_postgres, DATA_DIR)))
    worker_log = tmp_path / "worker.log"
    units = {
        UNIT.name: UNIT.read_text(),
        f"{UNIT.name}.d/checkout.conf": checkout_drop_in(environment_file),
        # Where the journal would have it: no journald runs in there.
        f"{UNIT.name}.d/output.conf": (
            f"[Service]\nStandardOutput=append:{worker_log}\nStandardError=inherit\n"
        ),
    }
    unit = f"pikir@{port}.service"
    with booted_systemd(tmp_path, units) as systemd:
        try:
            systemd.systemctl("start", unit)
            wait_for(lambda: ready(port), 120)  # the first start migrates the fresh database
            assert status(f"http://127.0.0.1:{port}/healthz") == 200

            first = systemd.show(unit, "MainPID")
            # The hardening is in force: no privileges, a system call filter, the service user.
            process = systemd.run("cat", f"/proc/{first}/status").stdout
            assert "NoNewPrivs:\t1" in process
            assert "Seccomp:\t2" in process
            assert "CapEff:\t0000000000000000" in process
            user = systemd.run("id", "-u", SERVICE_USER).stdout.strip()
            assert f"Uid:\t{user}\t{user}\t{user}\t{user}" in process

            systemd.run("kill", "-KILL", first)
            wait_for(lambda: systemd.show(unit, "MainPID") not in ("0", first), 30)
            assert systemd.show(unit, "NRestarts") == "1"
            wait_for(lambda: ready(port), 120)
            [killed] = exits_of(systemd, unit)
            assert killed.startswith("code=killed, status=9/KILL")

            systemd.systemctl("stop", unit)
            assert systemd.show(unit, "ActiveState") == "inactive"
            assert status(f"http://127.0.0.1:{port}/healthz") is None
            # SIGTERM, and the worker finished on its own, before TimeoutStopSec would have
            # had systemd kill it.
            wait_for(lambda: len(exits_of(systemd, unit)) == 2, 10)
            [_, stopped] = exits_of(systemd, unit)
            assert stopped.startswith("code=exited, status=0/SUCCESS")
        finally:
            print("systemd:", systemd.console()[-6000:], sep="\n")
            if worker_log.exists():
                print("worker:", worker_log.read_text(errors="replace")[-6000:], sep="\n")
