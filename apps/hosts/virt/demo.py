"""Loads the shipped demo node file into the shared test driver behind libvirtd.

A file URI (test+unix:///path/node.xml) would give every connection its own private copy, so
web, worker and monitor would each see a different hypervisor. The daemon's `default` test
driver is shared by all connections while one stays open, so the demo is defined into it.
"""

import logging
from copy import deepcopy

import libvirt
from lxml import etree

from apps.core.errors import from_libvirt

log = logging.getLogger(__name__)

TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"
SHARED_TEST_URIS = ("test+unix:///default", "test:///default")
RUNNING, PAUSED = 1, 3


def is_shared_test_uri(uri):
    return uri in SHARED_TEST_URIS


def _xml(element):
    clean = deepcopy(element)
    for node in clean.iter(f"{{{TEST_NS}}}*"):
        node.getparent().remove(node)
    etree.cleanup_namespaces(clean)
    return etree.tostring(clean, encoding="unicode")


def _run_state(element):
    found = element.find(f"{{{TEST_NS}}}runstate")
    return int(found.text) if found is not None else RUNNING


def seed(conn, node_path):
    """Define what the node file holds, unless its domains are already there.

    Returns the number of domains defined (0 when the demo was already loaded).
    """
    tree = etree.parse(node_path)
    domains = tree.findall("domain")
    existing = {d.name() for d in conn.listAllDomains()}
    if any(d.findtext("name") in existing for d in domains):
        return 0
    try:
        for net in tree.findall("network"):
            network = conn.networkDefineXML(_xml(net))
            if not network.isActive():
                network.create()
        for pool_el in tree.findall("pool"):
            volumes = pool_el.findall("volume")
            for vol in volumes:
                pool_el.remove(vol)
            pool = conn.storagePoolDefineXML(_xml(pool_el))
            if not pool.isActive():
                pool.create()
            have = set(pool.listVolumes())
            for vol in volumes:
                if vol.findtext("name") not in have:
                    pool.createXML(_xml(vol), 0)
        for dom_el in domains:
            state = _run_state(dom_el)
            dom = conn.defineXML(_xml(dom_el))
            if state in (RUNNING, PAUSED):
                dom.create()
            if state == PAUSED:
                dom.suspend()
    except libvirt.libvirtError as exc:
        raise from_libvirt(exc) from None
    log.info("demo node loaded: %d domains", len(domains))
    return len(domains)
