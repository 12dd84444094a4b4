"""Typed libvirt XML over lxml: one class per element that parses it, edits it and emits it.

The lxml element is the state. A class declares where each value lives (`Prop("source/@file")`,
`Flag("readonly")`, `Child(Auth, "source/auth")`, `Children(Disk, "devices/disk")`); reading
the attribute reads the element, setting it writes the element. So a definition parsed from
libvirt keeps every child and attribute the class does not model, and the edit path (take the
inactive XML, change it, redefine) drops nothing. Elements a change creates go where libvirt
itself writes them (each class's ORDER), so emitted XML reads like libvirt's own. This is the
idea of virt-manager's virtinst/xmlbuilder.py, kept small.

Values become attribute and text nodes through lxml, which escapes them; nothing is ever
formatted into an XML string. Setting a value to None removes it (and an element it leaves
empty).
"""

import copy

from lxml import etree

# Definitions come from libvirt or from a user's paste: no entities, no DTD, no network.
# Blank text is dropped so that emitting re-indents cleanly around elements an edit added.
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True)


class XMLError(ValueError):
    """Text that is not the XML element a class reads; the message is for people."""


class DoctypeError(XMLError):
    """A document with a DOCTYPE: refused, so no entity of any kind reaches a definition. Its own
    class so that a form can say so in its own words."""


def sub(parent, tag, text=None, **attrs):
    """A new child with attributes (None ones left out) and text."""
    el = etree.SubElement(parent, tag, {k: str(v) for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = str(text)
    return el


def parse(text):
    """The root element of an XML document (str or bytes); one with a DOCTYPE is refused, so no
    entity of any kind reaches a definition."""
    data = text.encode() if isinstance(text, str) else text
    try:
        root = etree.fromstring(data, PARSER)
    except etree.XMLSyntaxError as exc:
        raise XMLError(f"not well-formed XML: {exc.msg}") from None
    if root.getroottree().docinfo.doctype:
        raise DoctypeError("DOCTYPE declarations are not accepted: libvirt's documents have none")
    return root


def emit(el):
    """An element as indented text (a copy is indented: the element itself is left alone)."""
    el = copy.deepcopy(el)
    el.tail = None
    etree.indent(el, space="  ")
    return etree.tostring(el, pretty_print=True, encoding="unicode")


def scale(unit, default="bytes"):
    """How many bytes one `unit` is, read as libvirt reads a unit attribute (virScaleInteger):
    case does not matter, "k"/"KiB" are powers of 1024, "KB" powers of 1000, "b"/"bytes" one
    byte; no unit is `default`. None for a unit libvirt would refuse."""
    unit = (unit or default).strip().lower()
    if unit in ("b", "byte", "bytes"):
        return 1
    power = "kmgtpe".find(unit[:1]) + 1 if unit else 0
    if not power:
        return None
    if unit[1:] in ("", "ib"):
        return 1024**power
    if unit[1:] == "b":
        return 1000**power
    return None


def _split(path):
    """'source/host/@name' -> (['source', 'host'], 'name'); 'name' -> (['name'], None)."""
    steps = [s for s in path.split("/") if s and s != "."]
    attr = steps.pop()[1:] if steps and steps[-1].startswith("@") else None
    return steps, attr


def _rank(order, tag):
    return order.index(tag) if tag in order else None


def insert_ordered(parent, child, order):
    """Put `child` under `parent` where `order` (a tuple of tags, as libvirt writes them) says:
    before the first sibling that comes later, after any of its own kind; unknown tags last."""
    rank = _rank(order, child.tag)
    if rank is not None:
        for sibling in parent:
            other = _rank(order, sibling.tag) if isinstance(sibling.tag, str) else None
            if other is not None and other > rank:
                sibling.addprevious(child)
                return child
    parent.append(child)
    return child


def _empty(el):
    return not el.attrib and len(el) == 0 and not (el.text or "").strip()


class XMLObject:
    """Base of the typed classes. TAG is the element's name; ORDER maps a path below it ("" for
    the element itself) to the order libvirt writes that element's children in."""

    TAG = ""
    ORDER: dict = {}
    _fields: tuple = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        names = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, (Prop, Flag, Child, Children)):
                    names[name] = None
        cls._fields = tuple(names)

    def __init__(self, **values):
        self.el = etree.Element(self.TAG)
        self.set(**values)

    @classmethod
    def wrap(cls, el):
        """The typed view of an element that already exists (no defaults are applied)."""
        obj = cls.__new__(cls)
        obj.el = el
        return obj

    @classmethod
    def parse(cls, text):
        el = text if etree.iselement(text) else parse(text)
        if el.tag != cls.TAG:
            raise XMLError(f"expected <{cls.TAG}>, not <{el.tag}>")
        return cls.wrap(el)

    def set(self, **values):
        """Set several properties, in the order the class declares them (so attributes come out
        in a fixed order); None values are skipped (a constructor's "leave it out")."""
        unknown = [name for name in values if not hasattr(type(self), name)]
        if unknown:
            raise AttributeError(f"{type(self).__name__} has no property {unknown[0]!r}")
        rank = {name: i for i, name in enumerate(self._fields)}
        for name in sorted(values, key=lambda n: rank.get(n, len(rank))):
            if values[name] is not None:
                setattr(self, name, values[name])
        return self

    # -- the element underneath ---------------------------------------------------------------

    def node(self, steps, *, create=False):
        """The element at `steps` below this one (the first of each name), made on the way when
        `create`; None when it is not there."""
        el = self.el
        for i, tag in enumerate(steps):
            found = el.find(tag)
            if found is None:
                if not create:
                    return None
                found = insert_ordered(el, etree.Element(tag), self.ORDER.get("/".join(steps[:i]), ()))
            el = found
        return el

    def prune(self, el):
        """Remove `el` and then each parent an edit left empty, up to (not including) this element."""
        while el is not None and el is not self.el and _empty(el):
            parent = el.getparent()
            parent.remove(el)
            el = parent

    def place(self, path, child_el):
        """Insert an element at `path` ('devices/disk'), making its parents, in libvirt's order."""
        steps = _split(path)[0]
        parent = self.node(steps[:-1], create=True)
        if child_el.getparent() is not None:
            child_el = copy.deepcopy(child_el)
        child_el.tail = None
        return insert_ordered(parent, child_el, self.ORDER.get("/".join(steps[:-1]), ()))

    # -- emitting -----------------------------------------------------------------------------

    def to_element(self):
        """A copy of the element, to send or to append elsewhere."""
        el = copy.deepcopy(self.el)
        el.tail = None
        return el

    def to_xml(self):
        return emit(self.el)

    def __str__(self):
        return self.to_xml()

    def __repr__(self):
        return f"<{type(self).__name__} {etree.tostring(self.el, encoding='unicode', with_tail=False)[:120]}>"


class Prop:
    """A value at a path below the element: 'name' is the text of <name>, '@type' an attribute of
    the element itself, 'source/@file' an attribute of a child. kind: str, int, "yesno" or
    "onoff" (True/False for the two words; other values come back as written)."""

    WORDS = {"yesno": ("yes", "no"), "onoff": ("on", "off")}

    def __init__(self, path, kind=str):
        self.path = path
        self.steps, self.attr = _split(path)
        self.kind = kind

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        el = obj.node(self.steps)
        if el is None:
            return None
        raw = el.get(self.attr) if self.attr else el.text
        return None if raw is None else self.decode(raw)

    def decode(self, raw):
        if self.kind is int:
            try:
                return int(raw, 16) if raw.lower().startswith("0x") else int(raw)
            except ValueError:
                return raw  # libvirt wrote something we do not read as a number: keep it
        if self.kind in self.WORDS:
            true, false = self.WORDS[self.kind]
            return True if raw == true else False if raw == false else raw
        return raw

    def encode(self, value):
        if self.kind in self.WORDS and isinstance(value, bool):
            return self.WORDS[self.kind][0 if value else 1]
        return str(value)

    def __set__(self, obj, value):
        if value is None:
            el = obj.node(self.steps)
            if el is None:
                return
            if self.attr:
                el.attrib.pop(self.attr, None)
            else:
                el.text = None
            obj.prune(el)
            return
        el = obj.node(self.steps, create=True)
        if self.attr:
            el.set(self.attr, self.encode(value))
        else:
            el.text = self.encode(value)


class Flag:
    """An element whose presence is the value: <readonly/>, <features><acpi/></features>."""

    def __init__(self, path):
        self.steps = _split(path)[0]

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        return obj.node(self.steps) is not None

    def __set__(self, obj, value):
        if value:
            obj.node(self.steps, create=True)
        else:
            el = obj.node(self.steps)
            if el is not None:
                parent = el.getparent()
                parent.remove(el)
                obj.prune(parent)


class _Nested:
    """A declaration of child elements read as their own class, at a path (the class's tag by
    default)."""

    def __init__(self, cls, path=None):
        self.cls = cls
        self.path = path or cls.TAG
        self.steps = _split(self.path)[0]

    def __set_name__(self, owner, name):
        self.name = name


class Child(_Nested):
    """One child element read as its own class (`Child(Auth, "source/auth")`); None when absent.
    Setting puts the given object's element there (a copy when it already sits elsewhere)."""

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        el = obj.node(self.steps)
        return None if el is None else self.cls.wrap(el)

    def __set__(self, obj, value):
        old = obj.node(self.steps)
        if old is not None:
            parent = old.getparent()
            parent.remove(old)
            if value is None:
                obj.prune(parent)
        if value is not None:
            value.el.tag = self.steps[-1]  # a <domain> set as a snapshot's inactiveDomain is named so
            value.el = obj.place(self.path, value.el)


class Children(_Nested):
    """Every child element at a path, each read as its own class (`Children(Disk, "devices/disk")`).
    Setting replaces them all with the given objects, in order."""

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        parent = obj.node(self.steps[:-1])
        if parent is None:
            return []
        return [self.cls.wrap(el) for el in parent.findall(self.steps[-1])]

    def __set__(self, obj, values):
        parent = obj.node(self.steps[:-1])
        if parent is not None:
            for el in parent.findall(self.steps[-1]):
                parent.remove(el)
        for value in values or ():
            value.el = obj.place(self.path, value.el)
