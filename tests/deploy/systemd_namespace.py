"""A real systemd, booted as PID 1 of namespaces of its own, for the tests that start the shipped
unit with it.

It sees the machine read-only, shares its network (the workers reach PostgreSQL and Redis on
127.0.0.1) and boots a target of the test's that starts nothing; its own /run, /tmp, /var/lib
and cgroup subtree disappear with it. Whatever happens in the test, it and everything it
started are killed afterwards (``booted_systemd``)."""

from __future__ import annotations

import ctypes
import os
import secrets
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

BOOT_SCRIPT = Path(__file__).with_name("boot-systemd.sh")
CHECKOUT = BOOT_SCRIPT.parents[2]
FRESH_DIRS = (Path("/tmp"), Path("/var/tmp"))
"""Mounted anew inside the namespace: what lies there must be carried over to stay visible."""
SERVICE_USER = "pikir"
# The target booted: nothing wants it, it wants nothing. The unit's default dependencies
# (Requires=sysinit.target) need a sysinit.target; an empty one stands for the machine's.
OWN_UNITS = {
    "pikir-test.target": "[Unit]\nDescription=Nothing but what the test starts\n",
    "sysinit.target": "[Unit]\nDescription=System initialisation (nothing to do here)\n",
}
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: killed if the test process dies, however it dies."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _user_files(directory: Path) -> None:
    """The machine's passwd and group plus the service user, as ``useradd --system`` adds it."""
    passwd = Path("/etc/passwd").read_text()
    group = Path("/etc/group").read_text()
    taken = {int(line.split(":")[2]) for line in (passwd + group).splitlines() if line.count(":")}
    uid = next(n for n in range(999, 100, -1) if n not in taken)
    (directory / "passwd").write_text(
        passwd + f"{SERVICE_USER}:x:{uid}:{uid}::/var/lib/pikir:/usr/sbin/nologin\n"
    )
    (directory / "group").write_text(group + f"{SERVICE_USER}:x:{uid}:\n")


@dataclass
class BootedSystemd:
    """systemd as PID 1 of its namespaces; ``pid`` is its process id outside them."""

    pid: int
    console_log: Path

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``argv`` inside the namespaces (``systemctl …`` talks to this systemd)."""
        result = subprocess.run(
            ["nsenter", f"--target={self.pid}", "--mount", "--pid", "--", *argv],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{argv} failed ({result.returncode}):\n{result.stderr}")
        return result

    def systemctl(self, *arguments: str, check: bool = True) -> str:
        return self.run("systemctl", "--no-pager", *arguments, check=check).stdout.strip()

    def show(self, unit: str, prop: str) -> str:
        """One property of ``unit`` as systemd has it now."""
        return self.systemctl("show", f"--property={prop}", "--value", unit)

    def console(self) -> str:
        """What systemd logged so far."""
        return self.console_log.read_text(errors="replace")


def _wait_until_running(systemd: BootedSystemd, within: float) -> None:
    deadline = time.monotonic() + within
    state = ""
    while time.monotonic() < deadline:
        state = systemd.systemctl("is-system-running", check=False)
        if state == "running":
            return
        if state in ("degraded", "maintenance", "stopping"):
            break
        time.sleep(0.2)
    raise AssertionError(f"systemd did not boot ({state!r}):\n{systemd.console()[-4000:]}")


def _cgroup2_root() -> Path:
    """Where the unified cgroup hierarchy is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified
    beside the version 1 controllers)."""
    if os.geteuid() != 0:
        pytest.fail("booting systemd in namespaces of its own needs root")
    for line in Path("/proc/self/mounts").read_text().splitlines():
        _, mount_point, kind, *_ = line.split()
        if kind == "cgroup2":
            return Path(mount_point)
    pytest.fail("no cgroup2 hierarchy is mounted to give systemd a subtree of")


def _carried(checkout: Path) -> list[Path]:
    # The code the unit runs: a clone under /tmp (as CI makes) would vanish under the fresh one.
    return [checkout] if any(checkout.is_relative_to(fresh) for fresh in FRESH_DIRS) else []


@contextmanager
def booted_systemd(test_dir: Path, units: dict[str, str]) -> Iterator[BootedSystemd]:
    """systemd booted with ``units`` (file name → text; drop-ins as ``x.service.d/y.conf``)
    besides its own minimal target; killed with everything it started when the block ends."""
    cgroup_root = _cgroup2_root()
    _remove_stale_cgroups(cgroup_root)
    unit_dir = test_dir / "units"
    for name, text in (OWN_UNITS | units).items():
        (unit_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (unit_dir / name).write_text(text)
    _user_files(test_dir)
    cgroup = cgroup_root / f"pikir-test-{os.getpid()}-{secrets.token_hex(3)}"
    cgroup.mkdir()
    console_log = test_dir / "systemd-console.log"
    master, terminal = os.openpty()
    reader = threading.Thread(target=_copy_terminal, args=(master, console_log), daemon=True)
    launcher: subprocess.Popen[bytes] | None = None
    try:
        # Into the cgroup first: the new cgroup namespace is rooted where the process is.
        command = (
            f"echo $$ > {cgroup}/cgroup.procs && exec unshare --pid --mount --uts --cgroup --fork"
            f" --kill-child --mount-proc --propagation=private"
            f" /bin/sh {BOOT_SCRIPT} {test_dir} {unit_dir} {os.ttyname(terminal)}"
            f" {' '.join(shlex.quote(str(path)) for path in _carried(CHECKOUT))}"
        )
        launcher = subprocess.Popen(
            ["sh", "-c", command],
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        reader.start()
        systemd = BootedSystemd(_namespace_init(launcher, console_log), console_log)
        _wait_until_running(systemd, 30)
        yield systemd
    finally:
        try:
            if launcher is not None:
                # Its child, PID 1 inside, dies with it (--kill-child), and all of the
                # namespace with that; whatever might be left in the cgroup is killed too.
                launcher.kill()
                launcher.wait(timeout=10)
            if (cgroup / "cgroup.kill").exists():
                (cgroup / "cgroup.kill").write_text("1")
            _remove_cgroup(cgroup)
        finally:
            os.close(terminal)
            if reader.ident is not None:  # started
                reader.join(timeout=5)
            os.close(master)


def _namespace_init(launcher: subprocess.Popen[bytes], console_log: Path) -> int:
    """The process id, outside, of the launcher's child: PID 1 inside, soon systemd."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if launcher.poll() is not None:
            time.sleep(0.5)  # for what it printed to reach the log
            raise AssertionError(
                f"the namespace did not start (exit {launcher.returncode}):\n"
                + console_log.read_text(errors="replace")
            )
        children = _children(launcher.pid)
        if children:
            return children[0]
        time.sleep(0.05)
    raise AssertionError("the namespace did not start in time")


def _copy_terminal(master: int, log: Path) -> None:
    with log.open("ab") as output:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # the terminal's other end closed
                return
            if not data:
                return
            output.write(data)
            output.flush()


def _remove_stale_cgroups(cgroup_root: Path) -> None:
    """The cgroups of test processes that were killed before they could remove their own (their
    namespaces died with them: see ``_die_with_parent``)."""
    for cgroup in cgroup_root.glob("pikir-test-*-*"):
        owner = cgroup.name.split("-")[2]
        gone = owner.isdigit() and not Path(f"/proc/{owner}").exists()
        if gone and "populated 0" in (cgroup / "cgroup.events").read_text():
            _remove_cgroup(cgroup)


def _remove_cgroup(cgroup: Path) -> None:
    """Once empty, the cgroup and all systemd made below it, deepest first."""
    deadline = time.monotonic() + 10
    while "populated 1" in (cgroup / "cgroup.events").read_text():
        if time.monotonic() > deadline:
            raise AssertionError(f"processes are left in {cgroup}")
        time.sleep(0.1)
    for directory in sorted(
        (path for path in cgroup.rglob("*") if path.is_dir()),
        key=lambda path: len(path.parts),
        reverse=True,
    ):
        directory.rmdir()
    cgroup.rmdir()
