from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("me/", views.me, name="me"),
    path("users/", views.user_list, name="user_list"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/reset-password/", views.user_reset_password, name="user_reset_password"),
    path("users/<int:pk>/logout-everywhere/", views.user_logout_everywhere, name="user_logout_everywhere"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/<int:pk>/", views.team_detail, name="team_detail"),
    path("teams/<int:pk>/members/<str:op>/", views.team_member, name="team_member"),
    path("teams/<int:pk>/delete/", views.team_delete, name="team_delete"),
    path("roles/", views.role_list, name="role_list"),
    path("roles/<int:pk>/", views.role_detail, name="role_detail"),
    path("roles/<int:pk>/delete/", views.role_delete, name="role_delete"),
    path("<str:kind>/<int:pk>/grants/", views.grant_add, name="grant_add"),
    path("grants/<int:pk>/remove/", views.grant_remove, name="grant_remove"),
]
