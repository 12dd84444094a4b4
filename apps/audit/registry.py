"""Every audited action is registered once, with the sentence the audit page shows for it.

Registering a code twice fails at import, so two apps cannot quietly share or shadow one.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Action:
    code: str
    label: str


_actions: dict[str, Action] = {}


def register(code, label):
    if code in _actions:
        raise RuntimeError(f"audit action {code!r} is registered twice")
    _actions[code] = Action(code, label)
    return _actions[code]


def get(code):
    try:
        return _actions[code]
    except KeyError:
        raise KeyError(f"audit action {code!r} is not registered") from None


def all_actions():
    return sorted(_actions.values(), key=lambda a: a.code)


register("auth.denied", "was refused")
register("audit.prune", "pruned the audit log")
register("audit.export", "exported the audit log")
