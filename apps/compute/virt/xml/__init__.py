"""Domain XML, built with lxml: one small class per element, never string formatting.

`devices` holds the elements attach-disk / attach-interface add; `domain` the document the create
wizard defines. Golden files in tests/compute/golden/ pin what they emit.
"""

from .devices import Disk, Interface
from .domain import Domain, Graphics

__all__ = ["Disk", "Domain", "Graphics", "Interface"]
