"""libvirt's event loop and the callbacks the monitor listens with.

Callbacks run on the event-loop thread and must not block it, so they only put plain tuples on
a queue; the monitor's main thread does the database work.
"""

import logging
import threading

import libvirt

log = logging.getLogger(__name__)

_loop_started = False


def start_loop():
    """Register libvirt's default event implementation and run it on a daemon thread.

    Must run before the connections that want events are opened.
    """
    global _loop_started
    if _loop_started:
        return
    libvirt.virEventRegisterDefaultImpl()

    def run():
        while True:
            libvirt.virEventRunDefaultImpl()

    threading.Thread(target=run, name="libvirt-events", daemon=True).start()
    _loop_started = True


# Domain events that only tell a page to look again (the name goes to compute's handler).
DOMAIN_NOTICES = {
    libvirt.VIR_DOMAIN_EVENT_ID_REBOOT: "reboot",
    libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2: "block_job",
    libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED: "job_completed",
    libvirt.VIR_DOMAIN_EVENT_ID_TRAY_CHANGE: "tray",
    libvirt.VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE: "balloon",
    libvirt.VIR_DOMAIN_EVENT_ID_DISK_CHANGE: "disk_change",
    libvirt.VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION: "migration_iteration",
}

CLOSE_REASONS = {
    libvirt.VIR_CONNECT_CLOSE_REASON_ERROR: "connection error",
    libvirt.VIR_CONNECT_CLOSE_REASON_EOF: "libvirtd closed the connection",
    libvirt.VIR_CONNECT_CLOSE_REASON_KEEPALIVE: "keepalive timed out",
    libvirt.VIR_CONNECT_CLOSE_REASON_CLIENT: "closed by client",
}


class Watch:
    """The callbacks registered on one host connection. `sink(kind, host_id, payload)`."""

    def __init__(self, conn, host_id, sink):
        self.conn = conn
        self.host_id = host_id
        self.sink = sink
        self.callback_ids = []
        self.events_available = True

    def start(self):
        try:
            self.conn.registerCloseCallback(self._closed, None)
        except libvirt.libvirtError:
            log.info("host %s: close callbacks unsupported", self.host_id)
        try:
            # Remote connections only: notices a hung daemon (not just a closed socket).
            self.conn.setKeepAlive(2, 2)
        except libvirt.libvirtError:
            pass
        try:
            self.callback_ids.append(
                self.conn.domainEventRegisterAny(
                    None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._domain_lifecycle, None
                )
            )
        except libvirt.libvirtError as exc:
            # The monitor then relies on its tick, which lists every domain anyway.
            self.events_available = False
            log.warning("host %s: no domain events (%s); polling instead", self.host_id, exc)
        try:
            # `virsh desc` / `desc --title` and metadata edits change no state: without this event the
            # inventory's title and description would wait for the next define.
            self.callback_ids.append(
                self.conn.domainEventRegisterAny(
                    None, libvirt.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, self._domain_metadata, None
                )
            )
        except libvirt.libvirtError as exc:
            log.info("host %s: no metadata events (%s)", self.host_id, exc)
        for event_id in (libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED):
            try:
                # A NIC or disk plugged in or out of a running domain changes no state and
                # defines nothing: without these the inventory's ports would wait for the next define.
                self.callback_ids.append(self.conn.domainEventRegisterAny(None, event_id, self._domain_device, None))
            except libvirt.libvirtError as exc:
                log.info("host %s: no device events (%s)", self.host_id, exc)
        for event_id, name in DOMAIN_NOTICES.items():
            try:
                # Changes that are no lifecycle event and change no inventory field, but that a
                # page shows (a tray opened, a block job ended, the balloon moved): the open page
                # re-reads what it shows of the VM.
                self.callback_ids.append(
                    self.conn.domainEventRegisterAny(None, event_id, self._notice(name), None)
                )
            except libvirt.libvirtError as exc:
                log.info("host %s: no %s events (%s)", self.host_id, name, exc)
        self.pool_refresh_callback_id = None
        try:
            self.pool_refresh_callback_id = self.conn.storagePoolEventRegisterAny(
                None, libvirt.VIR_STORAGE_POOL_EVENT_ID_REFRESH, self._pool_refresh, None
            )
        except libvirt.libvirtError as exc:
            log.info("host %s: no storage pool refresh events (%s)", self.host_id, exc)
        try:
            self.pool_callback_id = self.conn.storagePoolEventRegisterAny(
                None, libvirt.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE, self._pool_lifecycle, None
            )
        except libvirt.libvirtError as exc:
            self.pool_callback_id = None
            log.info("host %s: no storage pool events (%s); the tick covers pools", self.host_id, exc)
        try:
            self.network_callback_id = self.conn.networkEventRegisterAny(
                None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, self._network_lifecycle, None
            )
        except libvirt.libvirtError as exc:
            self.network_callback_id = None
            log.info("host %s: no network events (%s); the tick covers networks", self.host_id, exc)
        return self

    def stop(self):
        if getattr(self, "pool_refresh_callback_id", None) is not None:
            try:
                self.conn.storagePoolEventDeregisterAny(self.pool_refresh_callback_id)
            except libvirt.libvirtError:
                pass
        if getattr(self, "network_callback_id", None) is not None:
            try:
                self.conn.networkEventDeregisterAny(self.network_callback_id)
            except libvirt.libvirtError:
                pass
        if getattr(self, "pool_callback_id", None) is not None:
            try:
                self.conn.storagePoolEventDeregisterAny(self.pool_callback_id)
            except libvirt.libvirtError:
                pass
        for cid in self.callback_ids:
            try:
                self.conn.domainEventDeregisterAny(cid)
            except libvirt.libvirtError:
                pass
        try:
            self.conn.unregisterCloseCallback()
        except libvirt.libvirtError:
            pass
        try:
            self.conn.close()
        except libvirt.libvirtError:
            pass

    def _closed(self, _conn, reason, _opaque):
        self.sink("closed", self.host_id, {"reason": CLOSE_REASONS.get(reason, f"closed ({reason})")})

    def _network_lifecycle(self, _conn, net, event, detail, _opaque):
        self.sink("network", self.host_id, {"name": net.name(), "uuid": net.UUIDString(), "event": event})

    def _pool_lifecycle(self, _conn, pool, event, detail, _opaque):
        self.sink("pool", self.host_id, {"uuid": pool.UUIDString(), "event": event})

    def _domain_lifecycle(self, _conn, dom, event, detail, _opaque):
        self.sink("domain", self.host_id, {"uuid": dom.UUIDString(), "event": event, "detail": detail})

    def _domain_device(self, _conn, dom, _alias, _opaque):
        self.sink("domain", self.host_id, {"uuid": dom.UUIDString(), "event": "device", "detail": None})

    def _notice(self, name):
        """A callback for one of DOMAIN_NOTICES, whatever arguments its event carries."""

        def callback(_conn, dom, *_rest):
            self.sink("domain", self.host_id, {"uuid": dom.UUIDString(), "event": name, "detail": None})

        return callback

    def _pool_refresh(self, _conn, pool, _opaque):
        self.sink("pool", self.host_id, {"uuid": pool.UUIDString(), "event": "refresh"})

    def _domain_metadata(self, _conn, dom, _type, _nsuri, _opaque):
        self.sink("domain", self.host_id, {"uuid": dom.UUIDString(), "event": "metadata", "detail": None})
