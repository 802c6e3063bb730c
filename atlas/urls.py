from django.urls import path

from . import views

app_name = "atlas"

urlpatterns = [
    path("", views.map_page, name="map"),
]
