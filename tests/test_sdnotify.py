"""sd_notify against a real datagram socket, as systemd would listen."""

from __future__ import annotations

import os
import socket

from responder.service.sdnotify import Notifier


def listen(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(2)
    return s


def test_ready_status_watchdog_stopping_arrive_as_datagrams(tmp_path):
    """READY=1 with STATUS, WATCHDOG=1 and STOPPING=1 each arrive as one datagram on NOTIFY_SOCKET."""
    path = str(tmp_path / "notify.sock")
    srv = listen(path)
    n = Notifier(environ={"NOTIFY_SOCKET": path})
    assert n.ready("载入完成") and n.watchdog() and n.stopping()
    assert srv.recv(4096).decode() == "READY=1\nSTATUS=载入完成"
    assert srv.recv(4096) == b"WATCHDOG=1"
    assert srv.recv(4096) == b"STOPPING=1"


def test_abstract_namespace_socket(tmp_path):
    """An @-prefixed NOTIFY_SOCKET is the Linux abstract namespace."""
    name = f"responder-test-{os.getpid()}"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    srv.bind("\0" + name)
    srv.settimeout(2)
    assert Notifier(environ={"NOTIFY_SOCKET": "@" + name}).status("hello")
    assert srv.recv(100) == b"STATUS=hello"


def test_reloading_carries_monotonic_usec(tmp_path):
    """RELOADING=1 is sent with MONOTONIC_USEC in the same datagram (systemd ≥ 253 requires it)."""
    path = str(tmp_path / "n.sock")
    srv = listen(path)
    Notifier(environ={"NOTIFY_SOCKET": path}).reloading()
    lines = srv.recv(200).decode().split("\n")
    assert lines[0] == "RELOADING=1" and lines[1].startswith("MONOTONIC_USEC=") and int(lines[1].split("=")[1]) > 0


def test_without_socket_everything_is_a_no_op():
    """Outside systemd nothing is sent and nothing fails."""
    n = Notifier(environ={})
    assert not n.enabled and not n.ready() and n.watchdog_usec is None


def test_watchdog_interval_only_for_our_pid(tmp_path):
    """WATCHDOG_USEC applies only when WATCHDOG_PID is unset or ours."""
    assert Notifier(environ={"WATCHDOG_USEC": "30000000"}).watchdog_usec == 30_000_000
    assert Notifier(environ={"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}).watchdog_usec is None
    assert Notifier(environ={"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}).watchdog_usec == 30_000_000


def test_a_missing_socket_is_logged_not_raised(tmp_path):
    """A vanished notification socket does not crash the service."""
    assert Notifier(environ={"NOTIFY_SOCKET": str(tmp_path / "gone.sock")}).ready() is False
