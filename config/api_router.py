"""Every API route under /api/v1/: apps contribute viewsets here and nowhere else."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from accounts import api as accounts_api
from core.api.views import RegionViewSet

router = DefaultRouter()
router.register("regions", RegionViewSet, basename="region")
router.register("organizations", accounts_api.OrganizationViewSet, basename="organization")
router.register("users", accounts_api.UserViewSet, basename="user")

app_name = "api"
urlpatterns = [
    path("auth/login/", accounts_api.LoginView.as_view(), name="auth-login"),
    path("auth/logout/", accounts_api.LogoutView.as_view(), name="auth-logout"),
    path("me/", accounts_api.MeView.as_view(), name="me"),
    path("", include(router.urls)),
]
