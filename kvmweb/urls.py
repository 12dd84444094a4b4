from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.http import require_GET
from django.views.generic import RedirectView

from apps.accounts.security import views as security_views
from apps.authz.decorators import public


@public
@require_GET
def favicon(request):
    """Browsers and tools ask for /favicon.ico whatever the page links; the icon is an SVG."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


handler403 = "apps.authz.error_pages.forbidden"
handler404 = "apps.authz.error_pages.not_found"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="compute:vm_list"), name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("login/", security_views.login, name="login"),
    path("logout/", security_views.logout, name="logout"),
    path("hosts/", include("apps.hosts.urls")),
    path("vms/", include("apps.consoles.urls")),  # first: compute's "<pk>/<action>/" would take its paths
    path("vms/", include("apps.consoles.screen_urls")),
    path("vms/", include("apps.compute.urls")),
    path("storage/", include("apps.storage.urls")),
    path("networks/", include("apps.network.urls")),
    path("operations/", include("apps.operations.urls")),
    path("audit/", include("apps.audit.urls")),
    path("accounts/security/", include("apps.accounts.security.urls")),
    path("accounts/", include("apps.accounts.urls")),
]
