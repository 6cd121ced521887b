"""The shipped unit and site as they are, checked by the tools that will read them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.harness import INSTALL_DIR, NGINX, NGINX_SITE, UNIT, Nginx, unit_lines


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is missing: install the systemd package (.ci/run does)")
    instance = tmp_path / "pikir@8081.service"
    shutil.copy(UNIT, tmp_path / UNIT.name)
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(instance)], capture_output=True, text=True
    )
    # The one thing it may miss here is the installed program itself.
    complaints = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and f"{INSTALL_DIR}/.venv/bin/pikir" not in line
    ]
    assert complaints == []


def test_the_unit_restarts_a_failed_worker_and_stops_it_with_sigterm() -> None:
    service = unit_lines()
    assert service["Restart"] == ["on-failure"]
    assert service["KillSignal"] == ["SIGTERM"]
    assert service["Environment"] == ["PIKIR_HTTP__PORT=%i"]
    assert service["NoNewPrivileges"] == ["yes"]
    assert service["ProtectSystem"] == ["strict"]


def test_nginx_accepts_the_site_exactly_as_shipped(tmp_path: Path) -> None:
    nginx = Nginx(tmp_path, 80, [8081])
    config = nginx.main_config()
    (tmp_path / "pikir.conf").write_text(NGINX_SITE.read_text())
    result = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(config), "-e", "stderr"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
