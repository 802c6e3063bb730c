from django.urls import path

from . import duplicate_views, handover_views, views

app_name = "projects"

urlpatterns = [
    path("projects/", views.project_list, name="project_list"),
    path("projects/new/", views.project_create, name="project_create"),
    path("projects/tasks/", views.my_tasks, name="my_tasks"),
    path("projects/duplicates/", duplicate_views.duplicates_page, name="duplicates"),
    path(
        "projects/<int:pk>/similar/<int:candidate_pk>/dismiss/",
        duplicate_views.similar_dismiss,
        name="similar_dismiss",
    ),
    path("projects/<int:pk>/", views.project_detail, name="project_detail"),
    path("projects/<int:pk>/edit/", views.project_edit, name="project_edit"),
    path("projects/<int:pk>/act/<slug:action>/", views.project_act, name="project_act"),
    path("projects/<int:pk>/progress/new/", views.progress_create, name="progress_create"),
    path("projects/<int:pk>/progress/<int:report_pk>/review/", views.report_review, name="report_review"),
    path("projects/<int:pk>/inspections/new/", views.inspection_create, name="inspection_create"),
    path(
        "projects/<int:pk>/rectifications/<int:rect_pk>/close/", views.rectification_close, name="rectification_close"
    ),
    path(
        "projects/<int:pk>/rectifications/<int:rect_pk>/<slug:action>/",
        views.rectification_act,
        name="rectification_act",
    ),
    path("projects/<int:pk>/handover/record/", handover_views.handover_record, name="handover_record"),
    path("projects/<int:pk>/handover/confirm/", handover_views.handover_confirm, name="handover_confirm"),
    path("projects/<int:pk>/handover/refuse/", handover_views.handover_refuse, name="handover_refuse"),
    path(
        "projects/<int:pk>/operation-reports/new/",
        handover_views.operation_report_create,
        name="operation_report_create",
    ),
    path("projects/<int:pk>/documents/new/", views.document_create, name="document_create"),
    path("projects/<int:pk>/flows/new/", views.project_flow_create, name="flow_create"),
    path("projects/<int:pk>/documents/<int:doc_pk>/", views.document_download, name="document_download"),
]
