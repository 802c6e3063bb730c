from django.urls import path

from . import notification_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("language/", views.set_language, name="set_language"),
    path("profile/", views.profile, name="profile"),
    path("profile/notification-email/", views.notification_email, name="notification_email"),
    path("directory/", views.directory, name="directory"),
    path("directory/organizations/new/", views.organization_form, name="organization_create"),
    path("directory/organizations/<int:pk>/", views.organization_form, name="organization_edit"),
    path("directory/users/new/", views.user_create, name="user_create"),
    path("directory/users/<int:pk>/", views.user_edit, name="user_edit"),
    path("directory/users/<int:pk>/active/", views.user_set_active, name="user_set_active"),
    path("directory/locked/", views.locked_accounts, name="locked_accounts"),
    path("directory/users/<int:pk>/unlock/", views.user_unlock, name="user_unlock"),
    path("notifications/", notification_views.notification_list, name="notifications"),
    path("notifications/<int:pk>/open/", notification_views.notification_open, name="notification_open"),
    path("notifications/read-all/", notification_views.notifications_read_all, name="notifications_read_all"),
]
