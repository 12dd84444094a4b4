"""Headers of uploaded images that name another file are refused (apps/storage/images.py)."""

import subprocess

import pytest

from apps.core.errors import OperationError
from apps.storage.images import refuse_linked


def _qemu_img(tmp_path, *args):
    subprocess.run(["qemu-img", "create", "-q", *args], cwd=tmp_path, check=True)


def _head(path):
    return path.read_bytes()[: 64 * 1024]


def test_a_standalone_qcow2_and_raw_pass(tmp_path):
    _qemu_img(tmp_path, "-f", "qcow2", "plain.qcow2", "1M")
    refuse_linked(_head(tmp_path / "plain.qcow2"))
    refuse_linked(b"\0" * 65536)
    refuse_linked(b"")


def test_qcow2_with_a_backing_file_made_by_qemu_img_is_refused(tmp_path):
    _qemu_img(tmp_path, "-f", "qcow2", "base.qcow2", "1M")
    _qemu_img(tmp_path, "-f", "qcow2", "-u", "-F", "raw", "-b", "/etc/shadow", "over.qcow2", "1M")
    with pytest.raises(OperationError, match="backing file"):
        refuse_linked(_head(tmp_path / "over.qcow2"))


def test_qcow2_with_an_external_data_file_made_by_qemu_img_is_refused(tmp_path):
    _qemu_img(tmp_path, "-f", "qcow2", "-o", "data_file=data.raw", "ext.qcow2", "1M")
    with pytest.raises(OperationError, match="external file"):
        refuse_linked(_head(tmp_path / "ext.qcow2"))


def test_qed_with_a_backing_file_and_vmdk_are_refused(tmp_path):
    _qemu_img(tmp_path, "-f", "qcow2", "base.qcow2", "1M")
    _qemu_img(tmp_path, "-f", "qed", "-u", "-F", "raw", "-b", "/etc/shadow", "over.qed", "1M")
    with pytest.raises(OperationError, match="QED image names a backing file"):
        refuse_linked(_head(tmp_path / "over.qed"))
    _qemu_img(tmp_path, "-f", "vmdk", "disk.vmdk", "1M")
    with pytest.raises(OperationError, match="VMDK"):
        refuse_linked(_head(tmp_path / "disk.vmdk"))
