from django.urls import include, path
from django.views.generic import RedirectView

from apps.accounts.security import views as security_views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="compute:vm_list"), name="home"),
    path("login/", security_views.login, name="login"),
    path("logout/", security_views.logout, name="logout"),
    path("hosts/", include("apps.hosts.urls")),
    path("vms/", include("apps.compute.urls")),
    path("storage/", include("apps.storage.urls")),
    path("operations/", include("apps.operations.urls")),
    path("audit/", include("apps.audit.urls")),
    path("accounts/security/", include("apps.accounts.security.urls")),
    path("accounts/", include("apps.accounts.urls")),
]
