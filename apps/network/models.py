from django.db import models

from apps.hosts.models import Host

# Forward modes as libvirt names them, plus "isolated" for a network without <forward>.
FORWARD_MODES = {
    "nat": "NAT",
    "route": "routed",
    "open": "open",
    "isolated": "isolated",
    "bridge": "host bridge",
    "private": "macvtap (private)",
    "vepa": "macvtap (VEPA)",
    "passthrough": "macvtap (passthrough)",
    "hostdev": "SR-IOV",
}


class VirtualNetwork(models.Model):
    """The inventory's mirror of one libvirt virtual network, kept by the monitor (network
    lifecycle events, and a slow tick for what no event announces: autostart, DHCP leases) and
    refreshed by every network operation."""

    host = models.ForeignKey(Host, on_delete=models.PROTECT, related_name="virtual_networks")
    uuid = models.UUIDField()
    name = models.CharField(max_length=255)
    forward_mode = models.CharField(max_length=16, default="isolated")
    bridge = models.CharField(max_length=64, blank=True)
    openvswitch = models.BooleanField(default=False)
    active = models.BooleanField(default=False)
    autostart = models.BooleanField(default=False)
    persistent = models.BooleanField(default=True)
    # "192.168.100.1/24", "fd00::1/64": the bridge's addresses with their prefixes.
    addresses = models.JSONField(default=list, blank=True)
    # [{"start", "end"}], [{"mac", "ip", "name"}]: what dnsmasq hands out, from the XML.
    dhcp_ranges = models.JSONField(default=list, blank=True)
    dhcp_hosts = models.JSONField(default=list, blank=True)
    # Host interfaces the network forwards through (forward dev, macvtap members, SR-IOV PF).
    devices = models.JSONField(default=list, blank=True)
    portgroups = models.JSONField(default=list, blank=True)
    # [{"ip", "hostnames": [...]}]: the DNS entries dnsmasq answers for the network.
    dns_hosts = models.JSONField(default=list, blank=True)
    # [{"mac", "ip", "hostname", "expires"}]: libvirt's DHCP leases, refreshed by the monitor.
    leases = models.JSONField(default=list, blank=True)
    present = models.BooleanField(default=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["host__name", "name"]
        constraints = [models.UniqueConstraint(fields=["host", "uuid"], name="network_host_uuid_unique")]
        indexes = [models.Index(fields=["host", "name"], name="network_host_name")]

    def __str__(self):
        return f"{self.name} ({self.host.name})"

    @property
    def mode_label(self):
        label = FORWARD_MODES.get(self.forward_mode, self.forward_mode)
        return f"{label}, Open vSwitch" if self.openvswitch else label

    @property
    def state(self):
        return "active" if self.active else "inactive"

    def authz_scopes(self):
        return [("network", self.pk), ("host", self.host_id)]

    def audit_target(self):
        return {
            "target_type": "network",
            "target_id": self.pk,
            "target_name": self.name,
            "host_id": self.host_id,
            "host_name": self.host.name,
        }


class Port(models.Model):
    """One NIC of one VM as its domain's XML describes it (live XML when running): what it is
    plugged into. Written by compute's inventory with the VM's configuration; read by the
    network pages (attached VMs, lease owners) and the wiring diagram."""

    vm = models.ForeignKey("compute.VirtualMachine", on_delete=models.CASCADE, related_name="ports")
    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="ports")
    mac = models.CharField(max_length=17)
    # network, bridge, direct (macvtap), hostdev, user, …: the <interface type>.
    kind = models.CharField(max_length=16)
    # The network's name, the bridge's, or the host interface's (direct, hostdev: a PCI address).
    source = models.CharField(max_length=255, blank=True)
    portgroup = models.CharField(max_length=64, blank=True)
    openvswitch = models.BooleanField(default=False)
    model = models.CharField(max_length=32, blank=True)
    target = models.CharField(max_length=64, blank=True)  # vnet3, macvtap0 … while running
    link_up = models.BooleanField(default=True)

    class Meta:
        ordering = ["vm__name", "mac"]
        constraints = [models.UniqueConstraint(fields=["vm", "mac"], name="port_vm_mac_unique")]
        indexes = [models.Index(fields=["host", "kind", "source"], name="port_host_source")]

    def __str__(self):
        return f"{self.mac} of {self.vm_id} on {self.kind} {self.source}"


class HostInterface(models.Model):
    """One network interface of a host (physical NIC, bridge, bond, VLAN, Open vSwitch bridge,
    SR-IOV function…), as libvirt's node devices and, on the local host, `ip -j link` describe
    it. Kept by the monitor on connect and on a slow tick; read-only in kvmweb."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="interfaces")
    name = models.CharField(max_length=64)
    # ethernet, bridge, bond, vlan, openvswitch, tap, macvtap, loopback, other
    kind = models.CharField(max_length=16, default="other")
    mac = models.CharField(max_length=17, blank=True)
    state = models.CharField(max_length=16, blank=True)  # up, down, unknown…
    speed_mbps = models.IntegerField(null=True, blank=True)
    mtu = models.IntegerField(null=True, blank=True)
    driver = models.CharField(max_length=64, blank=True)
    addresses = models.JSONField(default=list, blank=True)  # ["10.0.0.5/24", "fe80::1/64"]
    master = models.CharField(max_length=64, blank=True)  # the bridge or bond it is enslaved to
    vlan_id = models.IntegerField(null=True, blank=True)
    parent = models.CharField(max_length=64, blank=True)  # a VLAN's or VF's lower device
    sriov_total = models.IntegerField(null=True, blank=True)  # SR-IOV PF: VFs it can have
    sriov_used = models.IntegerField(null=True, blank=True)  # … and VFs in use
    pci_address = models.CharField(max_length=32, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["host__name", "name"]
        constraints = [models.UniqueConstraint(fields=["host", "name"], name="hostinterface_host_name_unique")]

    def __str__(self):
        return f"{self.name} on {self.host.name}"

    def authz_scopes(self):
        return [("host", self.host_id)]
