"""What the network app reads of a host's interfaces in libvirt's XML: node devices (`virsh
nodedev-dumpxml`: a network interface, a PCI device with its SR-IOV functions) and libvirt's
interface definitions (`virsh iface-dumpxml`: bridges and bonds with their members, VLANs). Read
only: kvmweb never defines either."""

from apps.core.xml import Children, Prop, XMLObject

from .network_xml import PciAddress  # the same <address> element, read the same way


class VirtFunctions(XMLObject):
    """<capability type='virt_functions' maxCount='7'> of an SR-IOV physical function: the VFs
    the device can have (maxCount) and one <address> per VF enabled now."""

    TAG = "capability"
    max_count = Prop("@maxCount", int)
    addresses = Children(PciAddress, "address")


class NodeDevice(XMLObject):
    """<device>: a capability net (a host network interface) or pci (its PCI function) device."""

    TAG = "device"
    name = Prop("name")  # net_eth0_52_54_00_12_34_56, pci_0000_00_03_0, …
    path = Prop("path")  # /sys/devices/…; under /sys/devices/virtual/ for software devices
    parent = Prop("parent")
    driver = Prop("driver/name")
    capability = Prop("capability/@type")  # net, pci, …
    # capability net
    interface = Prop("capability/interface")  # eth0
    mac = Prop("capability/address")
    link_state = Prop("capability/link/@state")
    link_speed = Prop("capability/link/@speed", int)  # Mb/s; 4294967295 when unknown
    # capability pci
    pci_domain = Prop("capability/domain", int)
    pci_bus = Prop("capability/bus", int)
    pci_slot = Prop("capability/slot", int)
    pci_function = Prop("capability/function", int)
    virt_functions = Children(VirtFunctions, "capability/capability[@type='virt_functions']")
    phys_function = Children(PciAddress, "capability/capability[@type='phys_function']/address")

    @property
    def pci_address(self):
        values = (self.pci_domain or 0, self.pci_bus, self.pci_slot or 0, self.pci_function or 0)
        if not all(isinstance(v, int) for v in values):
            return ""
        d, b, s, f = values
        return f"{d:04x}:{b:02x}:{s:02x}.{f:x}"

    @property
    def virtual(self):
        """A software device (bridge, tap, veth…) rather than a piece of hardware."""
        return "/devices/virtual/" in (self.path or "") or self.parent == "computer"


class Member(XMLObject):
    """<interface> inside a bridge, bond or VLAN definition: one lower device."""

    TAG = "interface"
    type = Prop("@type")
    name = Prop("@name")


class Ip(XMLObject):
    TAG = "ip"
    address = Prop("@address")
    prefix = Prop("@prefix", int)


class Protocol(XMLObject):
    TAG = "protocol"
    family = Prop("@family")
    ips = Children(Ip, "ip")


class InterfaceDef(XMLObject):
    """<interface type='ethernet|bridge|bond|vlan' name='…'>: libvirt's view of one host
    interface (the udev or netcf backend), the only source of bridges and bonds on a remote host."""

    TAG = "interface"
    type = Prop("@type")
    name = Prop("@name")
    mac = Prop("mac/@address")
    mtu = Prop("mtu/@size", int)
    link_state = Prop("link/@state")
    link_speed = Prop("link/@speed", int)
    protocols = Children(Protocol, "protocol")
    bridge_members = Children(Member, "bridge/interface")
    bond_members = Children(Member, "bond/interface")
    vlan_tag = Prop("vlan/@tag", int)
    vlan_parent = Prop("vlan/interface/@name")

    @property
    def addresses(self):
        return [f"{ip.address}/{ip.prefix}" for p in self.protocols for ip in p.ips if ip.address and ip.prefix]
