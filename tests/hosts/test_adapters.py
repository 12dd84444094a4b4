from pathlib import Path

import pytest
from lxml import etree

from apps.compute.virt import domains
from apps.core.errors import VirtError
from apps.hosts.virt import capabilities, capabilities_xml, connection
from apps.hosts.virt.info import host_info
from tests.helpers import TEST_URI, define_test_domain, unique


def test_host_info_through_the_daemon(test_driver):
    info = host_info(test_driver)
    assert info.driver == "TEST"
    assert info.libvirt_version.count(".") == 2
    assert info.cpus > 0 and info.memory_kib > 0


def test_two_connections_share_the_test_driver(test_driver):
    """The reason the demo uses test+unix:///default: state crosses connections (processes)."""
    name = unique()
    dom_uuid = define_test_domain(name)
    other = connection.open_connection(TEST_URI)
    try:
        assert domains.domain_info(other, dom_uuid).name == name
    finally:
        other.close()


def test_power_refusal_carries_libvirts_message(test_driver):
    dom_uuid = define_test_domain(start=True)
    with pytest.raises(VirtError, match="already running"):
        domains.power(test_driver, dom_uuid, "start")


def test_list_domains_reports_state_vcpus_memory(test_driver):
    dom_uuid = define_test_domain(start=True)
    found = {d.uuid: d for d in domains.list_domains(test_driver)}[dom_uuid]
    assert (found.state, found.vcpus, found.memory_kib) == ("running", 1, 256 * 1024)


def test_unreachable_uri_raises_a_readable_error_and_backs_off():
    uri = "test+unix:///default?socket=/nonexistent/libvirt-sock"
    with pytest.raises(VirtError) as first:
        connection.get(uri)
    assert "/nonexistent/libvirt-sock" in str(first.value)
    with pytest.raises(VirtError, match="Host unreachable"):
        connection.get(uri)  # within the backoff window: no new attempt
    connection.drop(uri)


def test_domain_info_of_a_removed_domain_is_none(test_driver):
    dom_uuid = define_test_domain()
    domains.undefine(test_driver, dom_uuid)
    assert domains.domain_info(test_driver, dom_uuid) is None


# -- capabilities and domain capabilities, through their typed classes ----------------
#
# golden/ holds what libvirt 9.0 itself wrote (`virsh capabilities`, `virsh domcapabilities`)
# on the test driver and on qemu:///system; each parses and emits to the
# same document, and the adapters read their dataclasses from it.

GOLDEN = Path(__file__).parent / "golden"
XML_CLASSES = {cls.TAG: cls for cls in (capabilities_xml.Capabilities, capabilities_xml.DomainCapabilities)}


def canonical(xml):
    """The document without insignificant whitespace, attribute order or quoting style."""
    root = etree.fromstring(xml.encode(), etree.XMLParser(remove_blank_text=True))
    return etree.tostring(root, method="c14n")


def golden(name):
    return (GOLDEN / name).read_text()


@pytest.mark.parametrize("name", sorted(p.name for p in GOLDEN.glob("*.xml")))
def test_what_libvirt_wrote_parses_and_emits_the_same_document(name):
    text = golden(name)
    cls = XML_CLASSES[etree.fromstring(text.encode()).tag]
    emitted = cls.parse(text).to_xml()
    assert canonical(emitted) == canonical(text)
    assert cls.parse(emitted).to_xml() == emitted


def test_every_typed_host_document_has_a_golden_file():
    tags = {etree.parse(str(path)).getroot().tag for path in GOLDEN.glob("*.xml")}
    assert tags == set(XML_CLASSES)


def test_capabilities_read_from_what_qemu_wrote():
    caps = capabilities.parse_capabilities(golden("capabilities-qemu.xml"))
    assert (caps.arch, caps.cpu_model, caps.cpu_vendor) == ("x86_64", "kvm64", "AMD")
    assert (caps.sockets, caps.dies, caps.cores, caps.threads, caps.iommu_support) == (1, 1, 2, 1, False)
    assert [(c.id, c.memory_kib, c.cpus) for c in caps.numa_cells] == [(0, 24683792, (0, 1))]
    assert caps.secmodels == ("none", "dac") and caps.cpu_total == 2
    x86 = next(g for g in caps.guests if g.arch == "x86_64")
    assert (x86.os_type, x86.wordsize, x86.emulator, x86.domain_types) == (
        "hvm", 64, "/usr/bin/qemu-system-x86_64", ("qemu", "kvm"),
    )  # fmt: skip
    assert "pc-q35-7.2" in x86.machines and "q35" in x86.machines  # the alias once, not twice
    assert len(x86.machines) == len(set(x86.machines))
    assert caps.best_domain_type() == "kvm" and caps.has_kvm


def test_domain_capabilities_read_from_what_qemu_wrote():
    dom = capabilities.parse_domain_capabilities(golden("domcapabilities-qemu.xml"))
    assert (dom.arch, dom.domain_type, dom.machine, dom.emulator, dom.max_vcpus) == (
        "x86_64", "kvm", "pc-i440fx-7.2", "/usr/bin/qemu-system-x86_64", 255,
    )  # fmt: skip
    assert dom.firmware == ("efi",) and dom.loaders == ("/usr/share/OVMF/OVMF_CODE_4M.fd",)
    assert dom.uefi and not dom.secure_boot
    assert dom.cpu_modes == ("host-passthrough", "maximum", "host-model", "custom")
    assert "pentium3" in dom.cpu_models and dom.pci_backends == ()
    doc = capabilities_xml.DomainCapabilities.parse(golden("domcapabilities-qemu.xml"))
    unusable = [m.name for m in doc.cpu_mode("custom").models if m.usable is False]
    assert unusable and not set(unusable) & set(dom.cpu_models)  # only usable models are offered
    assert doc.device("disk").supported is True and doc.device("nonesuch") is None


def test_the_test_drivers_capabilities_come_back_as_it_wrote_them(test_driver):
    xml = test_driver.getCapabilities()
    assert canonical(capabilities_xml.Capabilities.parse(xml).to_xml()) == canonical(xml)
    assert capabilities.parse_capabilities(xml) == capabilities.parse_capabilities(golden("capabilities-test.xml"))
