"""The typed classes the XML policy reads for devices kvmweb does not build (virt/xml/more_devices.py):
each reads what libvirt writes, and emits the element unchanged."""

import pytest

from apps.compute.virt.xml.more_devices import (
    AcpiTable,
    Audio,
    Filesystem,
    Hostdev,
    Input,
    MemoryDevice,
    Parallel,
    Redirdev,
    Rng,
    Shmem,
    Smartcard,
    Tpm,
)  # fmt: skip
from apps.core.xml import parse

CASES = [
    (Input, "<input type='passthrough' bus='virtio'><source evdev='/dev/input/event1'/></input>",
     {"type": "passthrough", "bus": "virtio", "source_evdev": "/dev/input/event1"}),
    (Rng, "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
     {"model": "virtio", "backend_model": "random", "backend": "/dev/urandom"}),
    (Tpm, "<tpm model='tpm-tis'><backend type='passthrough'><device path='/dev/tpm0'/></backend></tpm>",
     {"model": "tpm-tis", "backend_type": "passthrough", "backend_device": "/dev/tpm0"}),
    (Audio, "<audio id='1' type='file' path='/tmp/a.wav'/>", {"id": 1, "type": "file", "path": "/tmp/a.wav"}),
    (MemoryDevice, "<memory model='nvdimm'><source><path>/srv/n.img</path></source><target><size unit='KiB'>524288</size></target></memory>",
     {"model": "nvdimm", "source_path": "/srv/n.img", "target_size": 524288}),
    (Hostdev, "<hostdev mode='subsystem' type='pci' managed='yes'><source><address bus='0x03'/></source></hostdev>",
     {"mode": "subsystem", "type": "pci", "managed": True}),
    (Redirdev, "<redirdev bus='usb' type='tcp'><source mode='connect' host='127.0.0.1' service='4000'/></redirdev>",
     {"bus": "usb", "type": "tcp", "source_host": "127.0.0.1", "source_service": "4000"}),
    (Filesystem, "<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs'/><source dir='/srv/share'/><target dir='share'/></filesystem>",
     {"type": "mount", "accessmode": "passthrough", "driver": "virtiofs", "source_dir": "/srv/share", "target_dir": "share"}),
    (Smartcard, "<smartcard mode='host-certificates'><database>/etc/pki/nssdb</database></smartcard>",
     {"mode": "host-certificates", "database": "/etc/pki/nssdb"}),
    (Shmem, "<shmem name='s'><model type='ivshmem-doorbell'/><server path='/tmp/s.sock'/></shmem>",
     {"name": "s", "model": "ivshmem-doorbell", "server_path": "/tmp/s.sock"}),
    (Parallel, "<parallel type='file'><source path='/tmp/lp'/><target port='0'/></parallel>",
     {"type": "file", "source_path": "/tmp/lp", "target_port": 0}),
    (AcpiTable, "<table type='slic'>/srv/slic.bin</table>", {"type": "slic", "path": "/srv/slic.bin"}),
]  # fmt: skip


@pytest.mark.parametrize(("cls", "xml", "values"), CASES, ids=[c[0].__name__ for c in CASES])
def test_reads_what_libvirt_writes_and_emits_it_unchanged(cls, xml, values):
    obj = cls.parse(xml)
    assert {name: getattr(obj, name) for name in values} == values
    assert obj.to_xml() == cls.parse(obj.to_xml()).to_xml()
    assert parse(obj.to_xml()).tag == cls.TAG
