"""Every route declares the permission it needs, so the route matrix test can check all of them.

`needs("user.manage")` enforces a global permission (403, audited as denied). With
`per_object=True` the view only requires login and checks the object itself (or filters its list
by the user's rights); the declaration still names the permission for the matrix test.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required

from .rights import authorize


def needs(permission, *, per_object=False):
    def deco(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not per_object:
                authorize(request.user, permission)
            return view(request, *args, **kwargs)

        protected = login_required(wrapper)
        protected.kvm_permission = permission
        protected.kvm_per_object = per_object
        return protected

    return deco


def public(view):
    """For the few routes anyone may reach (login, static pages)."""
    view.kvm_public = True
    return view
