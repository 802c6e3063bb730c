from django.urls import path

from . import views

app_name = "pairings"

urlpatterns = [
    path("programmes/", views.program_list, name="program_list"),
    path("programmes/<slug:code>/", views.program_detail, name="program_detail"),
    path("pairings/", views.pairing_list, name="pairing_list"),
    path("pairings/new/", views.pairing_create, name="pairing_create"),
    path("pairings/<int:pk>/", views.pairing_detail, name="pairing_detail"),
    path("pairings/<int:pk>/edit/", views.pairing_edit, name="pairing_edit"),
    path("pairings/<int:pk>/end/", views.pairing_end, name="pairing_end"),
    path("pairings/<int:pk>/flows/new/", views.flow_create, name="flow_create"),
    path("pairings/<int:pk>/deployments/new/", views.deployment_create, name="deployment_create"),
    path("pairings/<int:pk>/trainings/new/", views.training_create, name="training_create"),
    path("pairings/<int:pk>/mandates/compute/", views.mandate_compute, name="mandate_compute"),
    path("pairings/<int:pk>/mandates/set/", views.mandate_set, name="mandate_set"),
    path("fiscal-revenues/", views.revenue_list, name="revenue_list"),
]
