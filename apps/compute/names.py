"""The one rule for VM names, shared by create, define-from-XML and clone.

libvirt itself refuses only '/' and control characters, but a VM's name becomes file names on the
host (volumes, NVRAM), virsh arguments and QEMU's -name: so ASCII letters, digits, '.', '_' and
'-', starting with a letter or digit, at most 64 characters, never "..".
"""

import re

NAME_MAX = 64
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def vm_name_problem(name):
    """What is wrong with this name, in words for a form; None when it is fine."""
    if not isinstance(name, str) or not name.strip():
        return "Give the VM a name."
    if len(name) > NAME_MAX:
        return f"A VM name can be at most {NAME_MAX} characters; this one has {len(name)}."
    if ".." in name:
        return "A VM name cannot contain '..'."
    if not _NAME.match(name):
        return (
            "Use only ASCII letters, digits, '.', '_' and '-', starting with a letter or digit: the name "
            "becomes file names on the host, virsh arguments and QEMU options."
        )
    return None
