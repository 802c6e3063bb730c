from django.urls import path

from . import import_views, views, webhook_views

app_name = "exchange"
urlpatterns = [
    path("imports/", import_views.import_list, name="import_list"),
    path("imports/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("imports/<int:pk>/commit/", import_views.import_commit, name="import_commit"),
    path("imports/template/<slug:kind>/", import_views.import_template, name="import_template"),
    path("", views.exchange_home, name="home"),
    path("exports/", views.export_list, name="export_list"),
    path("exports/new/", views.export_create, name="export_create"),
    path("exports/<int:pk>/row/", views.export_row, name="export_row"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("webhooks/", webhook_views.webhook_list, name="webhooks"),
    path("webhooks/<int:pk>/", webhook_views.webhook_detail, name="webhook_detail"),
    path(
        "webhooks/<int:pk>/<str:what>/",
        webhook_views.webhook_action,
        name="webhook_action",
    ),
]
