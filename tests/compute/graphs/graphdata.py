"""A graph's JSON as the page reads it (static/js/graphs.js, inUnits): each field multiplied by its
scale, from the stored unit (MiB/s, GiB…) to its own."""

import json


def in_units(answer):
    data = json.loads(answer) if isinstance(answer, str | bytes) else answer
    for group in ("values", "min", "max"):
        for name, column in data.get(group, {}).items():
            k = data["scale"][name]
            data[group][name] = [None if v is None else v * k for v in column]
    return data
