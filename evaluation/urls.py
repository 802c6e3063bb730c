from django.urls import path

from . import dashboard, frameworks_views, views

app_name = "evaluation"

urlpatterns = [
    # --- runs, rankings, scorecards, project scores and ratings (evaluation/views.py) ---
    path("runs/", views.run_list, name="run_list"),
    path("runs/start/", views.run_start, name="run_start"),
    path("runs/compare/", views.run_compare, name="run_compare"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/progress/", views.run_progress, name="run_progress"),
    path("rankings/", views.rankings, name="rankings"),
    path("scorecards/<int:pk>/", views.scorecard_detail, name="scorecard_detail"),
    path("project-scores/<int:pk>/", views.project_score_detail, name="project_score_detail"),
    path("projects/<int:project_id>/score/", views.project_latest_score, name="project_latest_score"),
    path("projects/<int:project_id>/assess/", views.project_assess, name="project_assess"),
    path("ratings/", views.ratings, name="ratings"),
    # --- national dashboard and indicator frameworks: `dashboard` at "" (/evaluation/), `framework_list`,
    # `framework_detail`, `framework_edit`. Their patterns go below this line. ---
    path("", dashboard.dashboard, name="dashboard"),
    path("frameworks/", frameworks_views.framework_list, name="framework_list"),
    path("frameworks/<int:pk>/", frameworks_views.framework_detail, name="framework_detail"),
    path("frameworks/<int:pk>/revise/", frameworks_views.framework_edit, name="framework_edit"),
]
