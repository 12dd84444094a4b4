from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="compute:vm_list"), name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("hosts/", include("apps.hosts.urls")),
    path("vms/", include("apps.compute.urls")),
    path("operations/", include("apps.operations.urls")),
    path("audit/", include("apps.audit.urls")),
    path("accounts/", include("apps.accounts.urls")),
]
