from apps.authz.rights import has_global


def navigation(request):
    """What the navigation bar may offer; computed once per full page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_manage_users": has_global(user, "user.manage")}
