from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("regions/", views.regions, name="regions"),
    path("regions/options/", views.region_options, name="region_options"),
]
