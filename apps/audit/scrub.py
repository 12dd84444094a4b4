"""The one scrubber every audit record's params and changes pass through: no secret reaches the log.

It also turns values into plain JSON (string keys, finite numbers), so what is stored is exactly
what was hashed.
"""

import math

SENSITIVE_WORDS = ("password", "passwd", "secret", "token", "key", "passphrase", "credential", "auth")
MASK = "***"


def is_sensitive(name):
    lowered = str(name).lower()
    return any(word in lowered for word in SENSITIVE_WORDS)


def scrub(value):
    if isinstance(value, dict):
        return {str(k): (MASK if is_sensitive(k) else scrub(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [scrub(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
