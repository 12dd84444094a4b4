from django.urls import path

from . import views

app_name = "security"
urlpatterns = [
    path("", views.index, name="index"),
    path("password/", views.password_change, name="password"),
    path("two-factor/", views.setup, name="setup"),
    path("two-factor/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("two-factor/disable/", views.disable, name="disable"),
    path("logout-everywhere/", views.logout_everywhere, name="logout_everywhere"),
    path("verify/", views.login_code, name="login_code"),
]
