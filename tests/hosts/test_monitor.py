"""The monitor in a thread of the test process, against the shared test driver."""

import os
import socket
import threading

import pytest

from apps.audit.models import AuditEvent
from apps.compute.models import VirtualMachine
from apps.compute.virt import domains
from apps.hosts.models import Host
from apps.hosts.monitor import Monitor
from apps.hosts.services import host_create, host_remove, host_update
from tests.helpers import TEST_URI, define_test_domain, unique, wait_for

LIBVIRT_SOCK = "/var/run/libvirt/libvirt-sock"


class SocketProxy:
    """A UNIX socket that forwards to libvirtd's, so a test can 'stop libvirtd' for one host
    (close every connection and refuse new ones) without stopping the daemon for everyone."""

    def __init__(self, path):
        self.path = path
        self.clients = []
        self.listener = None

    def start(self):
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(self.path)
        self.listener.listen()
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(LIBVIRT_SOCK)
            self.clients += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        self.listener.close()
        os.unlink(self.path)
        for s in self.clients:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.clients = []


@pytest.fixture
def monitor(transactional_db, test_driver):
    m = Monitor(tick=0.3, reconnect_max=1.0)
    thread = threading.Thread(target=m.run, daemon=True)
    thread.start()
    yield m
    m.stop()
    thread.join(timeout=10)


def vm_row(name):
    return VirtualMachine.objects.filter(name=name).first()


def test_host_comes_up_with_its_facts(monitor):
    host = host_create(actor=None, name="demo", uri=TEST_URI)
    wait_for(lambda: Host.objects.get(pk=host.pk).state == "up", message="host up")
    host.refresh_from_db()
    assert host.driver == "TEST" and host.libvirt_version and host.cpus > 0 and host.memory_kib > 0


def test_outside_changes_reach_the_inventory(monitor, test_driver):
    host = host_create(actor=None, name="demo", uri=TEST_URI)
    # Let the monitor discover the host first: what it finds then is inventory, not a change.
    wait_for(lambda: VirtualMachine.objects.filter(host=host).exists(), message="first discovery")
    name = unique()
    dom_uuid = define_test_domain(name)
    wait_for(lambda: vm_row(name), message="defined domain in inventory")
    assert vm_row(name).state == "shutoff"
    domains.power(test_driver, dom_uuid, "start")
    wait_for(lambda: vm_row(name).state == "running", message="running")
    domains.power(test_driver, dom_uuid, "suspend")
    wait_for(lambda: vm_row(name).state == "paused", message="paused")
    # Forced off first, then undefined: one undefine of a paused domain would stop and remove it
    # at once, and whether the monitor still sees it stopped before it is gone would be a race.
    domains.power(test_driver, dom_uuid, "destroy")
    wait_for(lambda: vm_row(name).state == "shutoff", message="forced off")
    domains.undefine(test_driver, dom_uuid)
    wait_for(lambda: not vm_row(name).present, message="marked removed")
    detected = list(
        AuditEvent.objects.filter(target_name=name, outcome="detected").order_by("id").values_list("action", "params")
    )
    assert detected == [
        ("vm.found", {"state": "shutoff"}),
        ("vm.state_outside", {"from": "shutoff", "to": "running"}),
        ("vm.state_outside", {"from": "running", "to": "paused"}),
        ("vm.state_outside", {"from": "paused", "to": "shutoff"}),
        ("vm.removed_outside", {}),
    ]


def test_unreachable_host_is_down_with_the_reason(monitor):
    host = host_create(actor=None, name="nowhere", uri="qemu+tcp://127.0.0.1:1/system")
    wait_for(lambda: Host.objects.get(pk=host.pk).state == "down", message="host down")
    assert "127.0.0.1:1" in Host.objects.get(pk=host.pk).last_error


def test_host_goes_down_when_libvirtd_goes_away_and_comes_back(monitor, tmp_path):
    proxy = SocketProxy(str(tmp_path / "libvirt-sock"))
    proxy.start()
    # Stored as is: the host form refuses socket= (it points a connection at any local socket);
    # the monitor connects to whatever URI a host has.
    host = Host.objects.create(name="flaky", uri=f"test+unix:///default?socket={proxy.path}")
    wait_for(lambda: Host.objects.get(pk=host.pk).state == "up", message="host up")
    proxy.stop()
    wait_for(lambda: Host.objects.get(pk=host.pk).state == "down", timeout=5, message="down within 5 s")
    assert Host.objects.get(pk=host.pk).last_error
    proxy.start()
    wait_for(lambda: Host.objects.get(pk=host.pk).state == "up", message="up again on its own")
    proxy.stop()


def test_the_monitor_follows_added_edited_and_removed_hosts(monitor, tmp_path):
    """No restart: each pass re-reads the Host table."""
    host = host_create(actor=None, name="follow", uri=TEST_URI)
    wait_for(lambda: Host.objects.get(pk=host.pk).state == "up", message="added host up")
    host = Host.objects.get(pk=host.pk)
    assert host.capabilities_xml

    bad = "qemu+tcp://127.0.0.1:1/system"  # nothing listens there
    host_update(actor=None, host=host, name="follow", uri=bad)
    wait_for(lambda: Host.objects.get(pk=host.pk).state == "down", message="edited URI is reconnected")
    assert "127.0.0.1:1" in Host.objects.get(pk=host.pk).last_error

    host_update(actor=None, host=Host.objects.get(pk=host.pk), name="follow", uri=TEST_URI)
    wait_for(lambda: Host.objects.get(pk=host.pk).state == "up", message="back up on the old URI")
    wait_for(lambda: monitor.sessions.get(host.pk) and monitor.sessions[host.pk].connected, message="session")

    host_remove(actor=None, host=Host.objects.get(pk=host.pk), forget_vms=True)
    wait_for(lambda: host.pk not in monitor.sessions, message="removed host dropped")


def test_a_title_set_outside_reaches_the_inventory(monitor, test_driver):
    """`virsh desc --title` changes no state; the metadata-change event brings it in."""
    import subprocess

    host = host_create(actor=None, name="demo", uri=TEST_URI)
    wait_for(lambda: VirtualMachine.objects.filter(host=host).exists(), message="first discovery")
    name = unique()
    define_test_domain(name)
    wait_for(lambda: vm_row(name), message="defined domain in inventory")
    subprocess.run(
        ["virsh", "-c", TEST_URI, "desc", name, "--config", "--title", "--new-desc", "web frontend"],
        check=True,
        capture_output=True,
    )
    wait_for(lambda: vm_row(name).title == "web frontend", timeout=5, message="the new title")
