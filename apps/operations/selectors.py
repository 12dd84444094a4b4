from django.db.models import Q

from apps.authz.rights import scope_ids

from .models import Operation


def operations_visible(user):
    """Operations on hosts the user may view, plus their own."""
    host_ids = scope_ids(user, "operation.view", "host")
    qs = Operation.objects.all()
    if host_ids is None:
        return qs
    return qs.filter(Q(host_id__in=host_ids) | Q(actor=user))
