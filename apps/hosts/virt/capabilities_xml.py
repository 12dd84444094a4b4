"""Capabilities and domain capabilities XML as typed classes over lxml (apps/core/xml.py).

`virsh capabilities` (<capabilities>: the host's CPU, NUMA cells, security models, and each guest
architecture with its machines and domain types) and `virsh domcapabilities`
(<domainCapabilities>: what one emulator offers a domain: firmware, CPU modes, devices). Only read:
libvirt writes these, nobody defines them; what the classes do not model stays in the element.
"""

from apps.core.xml import Child, Children, Prop, XMLObject, scale


def texts(values):
    """The stripped texts of <value> elements, blank ones left out."""
    return [v.text.strip() for v in values if (v.text or "").strip()]


class Value(XMLObject):
    TAG = "value"
    text = Prop(".")


class Enum(XMLObject):
    """<enum name='firmware'><value>efi</value></enum>: the values libvirt accepts for one setting."""

    TAG = "enum"
    name = Prop("@name")
    values = Children(Value, "value")

    @property
    def words(self):
        return texts(self.values)


def enum_values(enums, name):
    """The values of the enum called `name` among `enums`; [] when there is none."""
    return next((e.words for e in enums if e.name == name), [])


# -- <capabilities> ---------------------------------------------------------------------------


class CellCPU(XMLObject):
    TAG = "cpu"
    id = Prop("@id", int)
    socket_id = Prop("@socket_id", int)
    core_id = Prop("@core_id", int)
    siblings = Prop("@siblings")


class Cell(XMLObject):
    """A NUMA cell: its memory and its host CPUs."""

    TAG = "cell"
    id = Prop("@id", int)
    memory = Prop("memory", int)
    memory_unit = Prop("memory/@unit")
    cpus = Children(CellCPU, "cpus/cpu")

    @property
    def memory_kib(self):
        factor = scale(self.memory_unit, default="KiB")
        if not isinstance(self.memory, int) or factor is None:
            return None
        return self.memory * factor // 1024


class SecModel(XMLObject):
    TAG = "secmodel"
    model = Prop("model")  # selinux, apparmor, dac
    doi = Prop("doi")


class GuestDomain(XMLObject):
    TAG = "domain"
    type = Prop("@type")  # qemu, kvm, test, …
    emulator = Prop("emulator")  # when it differs from the arch's


class Machine(XMLObject):
    TAG = "machine"
    name = Prop(".")  # pc-q35-7.2, or an alias such as q35
    canonical = Prop("@canonical")
    max_cpus = Prop("@maxCpus", int)


class GuestArch(XMLObject):
    TAG = "arch"
    name = Prop("@name")
    wordsize = Prop("wordsize", int)
    emulator = Prop("emulator")
    machines = Children(Machine, "machine")
    domains = Children(GuestDomain, "domain")


class Guest(XMLObject):
    TAG = "guest"
    os_type = Prop("os_type")  # hvm, xen, exe, …
    arches = Children(GuestArch, "arch")


class Capabilities(XMLObject):
    TAG = "capabilities"

    host_uuid = Prop("host/uuid")
    arch = Prop("host/cpu/arch")
    cpu_model = Prop("host/cpu/model")
    cpu_vendor = Prop("host/cpu/vendor")
    sockets = Prop("host/cpu/topology/@sockets", int)
    dies = Prop("host/cpu/topology/@dies", int)
    cores = Prop("host/cpu/topology/@cores", int)
    threads = Prop("host/cpu/topology/@threads", int)
    iommu = Prop("host/iommu/@support", "yesno")
    cells = Children(Cell, "host/topology/cells/cell")
    secmodels = Children(SecModel, "host/secmodel")
    guests = Children(Guest, "guest")


# -- <domainCapabilities> ---------------------------------------------------------------------


class Support(XMLObject):
    """A feature or device kind of the domain capabilities: supported or not, and its enums
    (<hostdev supported='yes'><enum name='pciBackend'>…)."""

    TAG = "hostdev"  # the one this dashboard reads; `DomainCapabilities.device()` wraps any
    supported = Prop("@supported", "yesno")
    enums = Children(Enum, "enum")


class CPUModel(XMLObject):
    TAG = "model"
    name = Prop(".")
    usable = Prop("@usable", "yesno")  # yes, no, or unknown (as written)
    fallback = Prop("@fallback")


class CPUMode(XMLObject):
    """host-passthrough, maximum, host-model or custom, and for custom the named models."""

    TAG = "mode"
    name = Prop("@name")
    supported = Prop("@supported", "yesno")
    models = Children(CPUModel, "model")
    enums = Children(Enum, "enum")


class DomainCapabilities(XMLObject):
    TAG = "domainCapabilities"

    emulator = Prop("path")
    domain_type = Prop("domain")
    machine = Prop("machine")
    arch = Prop("arch")
    max_vcpus = Prop("vcpu/@max", int)
    os_supported = Prop("os/@supported", "yesno")
    os_enums = Children(Enum, "os/enum")  # firmware: the values <os firmware=…> auto-selection takes
    loader_supported = Prop("os/loader/@supported", "yesno")
    loaders = Children(Value, "os/loader/value")  # firmware images: OVMF_CODE…
    loader_enums = Children(Enum, "os/loader/enum")  # type, readonly, secure
    cpu_modes = Children(CPUMode, "cpu/mode")
    hostdev = Child(Support, "devices/hostdev")

    def device(self, tag):
        """What the capabilities say of one kind of device (disk, graphics, hostdev, …); None when
        they do not name it."""
        el = self.node(["devices", tag])
        return None if el is None else Support.wrap(el)

    def cpu_mode(self, name):
        return next((m for m in self.cpu_modes if m.name == name), None)
