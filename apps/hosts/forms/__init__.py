from .hosts import HostForm, HostRemoveForm

__all__ = ["HostForm", "HostRemoveForm"]
