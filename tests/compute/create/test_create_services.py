"""vm.create and vm.define against the libvirt test driver through the daemon: the services'
checks (each bad input a form error with nothing changed), the worker's work, and its cleanup."""

import uuid as uuidlib

import pytest
from django.core.exceptions import PermissionDenied
from lxml import etree

from apps.accounts.services import grant_add, team_create, team_member_add
from apps.compute.models import VirtualMachine
from apps.compute.services.create import CreateError, create_plan, vm_create, vm_define_xml
from apps.compute.virt import domains
from apps.hosts.virt import connection
from apps.operations.models import Operation
from apps.operations.services import operation_run
from apps.storage.models import StorageVolume
from apps.storage.services.pools import pool_refresh_inventory
from apps.storage.virt import volumes as volume_virt
from apps.storage.virt.volume_xml import Volume
from tests.helpers import TEST_URI, created_domains, define_test_domain, make_vm, unique

pytestmark = pytest.mark.django_db
LIBOSINFO = "{http://libosinfo.org/xmlns/libvirt/domain/1.0}os"
DEFAULT_POOL = "dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566"  # the test driver's default-pool


@pytest.fixture
def host(demo_host):
    demo_host.state, demo_host.cpus, demo_host.memory_kib = "up", 16, 8 << 20
    demo_host.save()
    return demo_host


@pytest.fixture
def pool(host):
    conn = connection.get(TEST_URI)
    return pool_refresh_inventory(conn, host, DEFAULT_POOL)


@pytest.fixture
def team(operator):
    t = team_create(actor=None, name=unique("team"))
    team_member_add(actor=None, team=t, user=operator)
    return t


@pytest.fixture
def leftovers():
    """Volumes a test may leave in the shared test driver's default-pool."""
    names = []
    yield names
    conn = connection.get(TEST_URI)
    for name in names:
        volume_virt.delete_quietly(conn, DEFAULT_POOL, name)


def plan(actor, host, **kw):
    args = {"name": unique("new"), "memory_mib": 256, "vcpus": 1, "source": "pxe", "network": "default"} | kw
    return create_plan(actor=actor, host=host, **args)


def run(op):
    operation_run(op.pk)
    op.refresh_from_db()
    return op


def test_pxe_vm_with_a_new_disk_is_created_started_and_adopted(operator, host, pool, team, leftovers):
    params = plan(operator, host, team=team, os_id="debian11", disk_pool=pool, disk_gib=1, start=True)
    leftovers.append(params["disk"]["name"])
    op = run(vm_create(actor=operator, host=host, params=params))
    assert op.status == "succeeded", op.error
    assert op.kind == "vm.create" and op.params["name"] == params["name"]
    vm = VirtualMachine.objects.get(host=host, name=params["name"])
    created_domains.append(str(vm.uuid))
    assert op.target_id == str(vm.pk)
    assert vm.state == "running" and vm.team == team and vm.vcpus == 1
    assert vm.os_variant == "http://debian.org/debian/11"
    assert vm.disk_bytes == 1 << 30
    conn = connection.get(TEST_URI)
    assert volume_virt.volume_info(conn, DEFAULT_POOL, params["disk"]["name"]).capacity == 1 << 30
    assert StorageVolume.objects.filter(pool=pool, name=params["disk"]["name"]).exists()  # inventory refreshed
    inactive = etree.fromstring(conn.lookupByName(params["name"]).XMLDesc(2))  # VIR_DOMAIN_XML_INACTIVE
    assert [b.get("dev") for b in inactive.findall("os/boot")] == ["hd"]  # the next boot is from the disk
    assert inactive.find(f"metadata/{{http://libosinfo.org/xmlns/libvirt/domain/1.0}}libosinfo/{LIBOSINFO}") is not None


def test_import_of_an_existing_volume_defines_without_starting(operator, host, pool, leftovers):
    name = unique("appliance") + ".img"
    leftovers.append(name)
    volume_virt.create(connection.get(TEST_URI), DEFAULT_POOL, Volume(name=name, capacity=1 << 20).to_xml())
    pool_refresh_inventory(connection.get(TEST_URI), host, DEFAULT_POOL)
    volume = pool.volumes.get(name=name)
    params = plan(operator, host, source="import", import_volume=volume, start=False)
    op = run(vm_create(actor=operator, host=host, params=params))
    assert op.status == "succeeded", op.error
    vm = VirtualMachine.objects.get(host=host, name=params["name"])
    created_domains.append(str(vm.uuid))
    assert vm.state == "shutoff"
    xml = connection.get(TEST_URI).lookupByName(params["name"]).XMLDesc(0)
    assert volume.path in xml


def test_a_failed_create_leaves_nothing_behind(operator, host, pool, leftovers):
    params = plan(operator, host, disk_pool=pool, disk_gib=1, start=False)
    leftovers.append(params["disk"]["name"])
    op = vm_create(actor=operator, host=host, params=params)
    op.params["graphics"] = "bogus"  # libvirt's schema refuses it at define, after the disk exists
    op.save()
    op = run(op)
    assert op.status == "failed" and "failed to validate" in op.error  # libvirt's words
    conn = connection.get(TEST_URI)
    assert volume_virt.volume_info(conn, DEFAULT_POOL, params["disk"]["name"]) is None
    assert not VirtualMachine.objects.filter(host=host, name=params["name"]).exists()
    assert params["name"] not in [d.name() for d in conn.listAllDomains()]


def test_a_name_taken_outside_kvmweb_fails_before_any_disk_is_made(operator, host, pool, leftovers):
    params = plan(operator, host, disk_pool=pool, disk_gib=1)
    leftovers.append(params["disk"]["name"])
    define_test_domain(params["name"])  # `virsh define` on the host meanwhile
    op = run(vm_create(actor=operator, host=host, params=params))
    assert op.status == "failed" and "already exists" in op.error
    assert volume_virt.volume_info(connection.get(TEST_URI), DEFAULT_POOL, params["disk"]["name"]) is None


@pytest.mark.parametrize(
    "name",
    ["two words", 'quo"te', "it's", "<b>", "a&b", "a/b", "..", "a..b", "x" * 65, "Ωmega", "ü", "-dash", ".hidden", ""],
)
def test_bad_names_are_form_errors(name, operator, host):
    with pytest.raises(CreateError) as exc:
        plan(operator, host, name=name)
    assert exc.value.field == "name"
    assert not Operation.objects.exists()


@pytest.mark.parametrize(
    "kw, field, words",
    [
        ({"memory_mib": 0}, "memory_mib", "at least"),
        ({"memory_mib": 9 << 10}, "memory_mib", "has only 8192 MiB"),
        ({"vcpus": 0}, "vcpus", "at least 1"),
        ({"vcpus": 17}, "vcpus", "16 CPUs"),
        ({"firmware": "efi"}, "firmware", "no UEFI"),
        ({"network": "nope"}, "network", "no network named nope"),
        ({"source": "tree", "tree_url": "ftp://x/"}, "tree_url", "http"),
        ({"kernel_args": "ks=x"}, "kernel_args", "only to an install from a tree"),
        ({"listen": "not-an-ip"}, "listen", "IP address"),
        ({"os_id": "plan9"}, "os_id", "not in the osinfo"),
        ({"source": "iso"}, "iso", "Choose an ISO"),
    ],
)
def test_bad_sizes_and_choices_are_form_errors(kw, field, words, operator, host):
    with pytest.raises(CreateError) as exc:
        plan(operator, host, **kw)
    assert exc.value.field == field and words in str(exc.value)


def test_duplicate_names_on_the_host(operator, host):
    vm = make_vm(host)
    with pytest.raises(CreateError, match="already exists"):
        plan(operator, host, name=vm.name)


def test_storage_rights_are_checked_per_pool(outsider, host, pool):
    from apps.accounts.services import role_create

    role_create(actor=None, name="Creator", permissions=["vm.create", "vm.view", "network.use"])
    grant_add(actor=None, user=outsider, role="Creator", scope=host)
    with pytest.raises(CreateError) as exc:
        plan(outsider, host, disk_pool=pool, disk_gib=1)
    assert exc.value.field == "disk_pool" and "may not create volumes" in str(exc.value)
    volume = StorageVolume.objects.create(pool=pool, name=unique("v"), key="k", path="/default-pool/v")
    with pytest.raises(CreateError) as exc:
        plan(outsider, host, source="import", import_volume=volume)
    assert exc.value.field == "import_volume" and "may not attach volumes of pool" in str(exc.value)
    grant_add(actor=None, user=outsider, role="Viewer", scope=pool)
    with pytest.raises(CreateError) as exc:
        plan(outsider, host, source="import", import_volume=volume)
    assert exc.value.field == "import_volume", "seeing a pool is not enough to import its volume"


def test_the_network_takes_a_right_on_it_and_a_refusal_is_recorded(outsider, host):
    from apps.accounts.services import role_create
    from apps.audit.models import AuditEvent
    from apps.network.models import VirtualNetwork

    VirtualNetwork.objects.get_or_create(host=host, name="default", defaults={"uuid": uuidlib.uuid4(), "present": True})
    role_create(actor=None, name="Creator", permissions=["vm.create", "vm.view"])
    grant_add(actor=None, user=outsider, role="Creator", scope=host)
    with pytest.raises(CreateError) as exc:
        plan(outsider, host)
    assert exc.value.field == "network" and "connect virtual machines' NICs to networks" in str(exc.value)
    denied = AuditEvent.objects.filter(actor=outsider, action="auth.denied")
    assert [e.params["permission"] for e in denied] == ["network.use"]
    role_create(actor=None, name="Plugger", permissions=["network.use"])
    grant_add(actor=None, user=outsider, role="Plugger", scope=VirtualNetwork.objects.get(host=host, name="default"))
    assert plan(outsider, host)["network"] == "default"


def test_quota_refusals_are_recorded_as_denied(operator, host, team):
    from apps.audit.models import AuditEvent

    team.max_vcpus = 2
    team.save()
    with pytest.raises(CreateError):
        plan(operator, host, team=team, vcpus=3)
    with pytest.raises(CreateError):
        vm_define_xml(actor=operator, host=host, xml="<domain/>", name=unique("d"), vcpus=3, memory_mib=64, team=team)
    denied = AuditEvent.objects.filter(actor=operator, action="auth.denied").order_by("pk")
    assert [(e.params.get("attempt"), "quota" in e.error) for e in denied] == [("vm.create", True), ("vm.define", True)]


def test_an_iso_must_come_from_the_hosts_iso_library(operator, host, pool):
    volume = StorageVolume.objects.create(pool=pool, name=unique("x") + ".iso", key="k", path="/default-pool/x.iso")
    with pytest.raises(CreateError) as exc:
        plan(operator, host, source="iso", iso=volume)
    assert exc.value.field == "iso" and "ISO library" in str(exc.value)


def test_no_vm_create_right_is_a_403(viewer, host):
    with pytest.raises(PermissionDenied):
        plan(viewer, host)


def test_quota_is_a_form_error(operator, host, team):
    team.max_vcpus = 2
    team.save()
    with pytest.raises(CreateError) as exc:
        plan(operator, host, team=team, vcpus=3)
    assert exc.value.field == "team" and "quota" in str(exc.value)


def test_a_team_the_user_is_not_in_is_refused(operator, host):
    other = team_create(actor=None, name=unique("other"))
    with pytest.raises(CreateError, match="not a member"):
        plan(operator, host, team=other)


DOMAIN_XML = """<domain type="test"><name>{name}</name><memory unit="MiB">128</memory><vcpu>1</vcpu>
<os><type arch="x86_64">hvm</type></os>{extra}</domain>"""


def test_define_from_xml(operator, host, team):
    name = unique("xml")
    op = run(
        vm_define_xml(
            actor=operator, host=host, xml=DOMAIN_XML.format(name=name, extra=""), name=name, vcpus=1, memory_mib=128,
            team=team,
        )
    )  # fmt: skip
    assert op.status == "succeeded", op.error
    vm = VirtualMachine.objects.get(host=host, name=name)
    created_domains.append(str(vm.uuid))
    assert vm.team == team and op.kind == "vm.define" and op.params["name"] == name


def test_define_from_xml_refused_by_libvirt_fails_with_its_words(operator, host):
    name = unique("xml")
    xml = DOMAIN_XML.format(name=name, extra="<devices><disk type='file' device='floppy-drive'/></devices>")
    op = run(vm_define_xml(actor=operator, host=host, xml=xml, name=name, vcpus=1, memory_mib=128))
    assert op.status == "failed" and "failed to validate against schema" in op.error
    assert not VirtualMachine.objects.filter(host=host, name=name).exists()
    uuids = [d.UUIDString() for d in connection.get(TEST_URI).listAllDomains() if d.name() == name]
    for u in uuids:
        domains.undefine(connection.get(TEST_URI), u)
    assert uuids == []


def test_a_graphics_password_in_defined_xml_is_never_stored_or_audited(operator, host, team):
    """Issue: teams stay apart, item 10: the audit rows and the operation kept the whole XML."""
    from apps.audit.models import AuditEvent

    name = unique("xml")
    extra = "<devices><graphics type='vnc' port='-1' passwd='s3cr3t-vnc'/></devices>"
    xml = DOMAIN_XML.format(name=name, extra=extra)
    op = vm_define_xml(actor=operator, host=host, xml=xml, name=name, vcpus=1, memory_mib=128, team=team)
    assert "s3cr3t-vnc" in Operation.objects.get(pk=op.pk).params["xml"], "the worker needs it while queued"
    op = run(op)
    assert op.status == "succeeded", op.error
    created_domains.append(str(VirtualMachine.objects.get(host=host, name=name).uuid))
    assert "s3cr3t-vnc" not in str(Operation.objects.get(pk=op.pk).params)
    records = list(AuditEvent.objects.filter(operation_id=op.pk).order_by("id").values_list("outcome", "params"))
    assert [outcome for outcome, _ in records] == ["requested", "succeeded"]
    assert "s3cr3t-vnc" not in str(records) and "passwd=" in str(records[0][1]), "masked, not dropped"
    domain = connection.get(TEST_URI).lookupByName(name)
    assert "s3cr3t-vnc" in domain.XMLDesc(1), "libvirt got the real password"  # VIR_DOMAIN_XML_SECURE


def test_a_refused_define_forgets_the_xml_too(operator, host):
    name = unique("xml")
    xml = DOMAIN_XML.format(name=name, extra="<devices><graphics type='vnc' passwd='s3cr3t-vnc'/></devices>")
    op = vm_define_xml(actor=operator, host=host, xml=xml, name=name, vcpus=1, memory_mib=128)
    operator.grants.all().delete()
    op = run(op)
    assert op.status == "failed"
    assert "s3cr3t-vnc" not in str(Operation.objects.get(pk=op.pk).params)
