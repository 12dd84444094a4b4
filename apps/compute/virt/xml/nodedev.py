"""<device>: a host device as libvirt's node device driver describes it (`virsh nodedev-dumpxml`).

Read only: the NICs form asks which host network interfaces exist, for macvtap and bridges.
"""

from apps.core.xml import Prop, XMLObject


class NodeDevice(XMLObject):
    TAG = "device"
    ORDER = {"": ("name", "path", "devnode", "parent", "driver", "capability")}

    name = Prop("name")  # net_eth0_52_54_00_12_34_56, pci_0000_00_03_0, …
    path = Prop("path")  # its sysfs path
    parent = Prop("parent")
    capability = Prop("capability/@type")  # net, pci, usb_device, scsi_host, …
    interface = Prop("capability/interface")  # a net device's interface name: eth0
    mac = Prop("capability/address")  # a net device's MAC address
    link_state = Prop("capability/link/@state")
