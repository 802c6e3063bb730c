"""Every API route under /api/v1/: apps contribute viewsets here and nowhere else."""

from django.urls import include, path

from accounts.api import views as accounts_views
from accounts.api.notifications import NotificationViewSet
from atlas.api.views import MapView
from core.api.routers import Router
from core.api.views import RegionViewSet
from evaluation.api import views as evaluation_views
from exchange.api.events import EventView
from exchange.api.exports import ExportViewSet
from exchange.api.iati import IATIActivitiesView
from exchange.api.imports import ImportViewSet
from exchange.api.webhooks import DeliveryViewSet, WebhookViewSet
from pairings.api import views as pairings_views
from projects.api import views as projects_views
from projects.api.handover import HandoverViewSet, OperationReportViewSet

router = Router()
router.register("regions", RegionViewSet, basename="region")
router.register("organizations", accounts_views.OrganizationViewSet, basename="organization")
router.register("users", accounts_views.UserViewSet, basename="user")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("programs", pairings_views.ProgramViewSet, basename="program")
router.register("pairings", pairings_views.PairingViewSet, basename="pairing")
router.register(r"pairings/(?P<pairing_pk>[0-9]+)/mandates", pairings_views.MandateViewSet, basename="pairing-mandate")
router.register("fiscal-revenues", pairings_views.FiscalRevenueViewSet, basename="fiscal-revenue")
router.register("fund-flows", pairings_views.FundFlowViewSet, basename="fund-flow")
router.register("deployments", pairings_views.DeploymentViewSet, basename="deployment")
router.register("trainings", pairings_views.TrainingViewSet, basename="training")
router.register("projects", projects_views.ProjectViewSet, basename="project")
router.register(r"projects/(?P<project_pk>[0-9]+)/history", projects_views.HistoryViewSet, basename="project-history")
router.register(
    r"projects/(?P<project_pk>[0-9]+)/progress-reports",
    projects_views.ProgressReportViewSet,
    basename="project-progress-report",
)
router.register(
    r"projects/(?P<project_pk>[0-9]+)/inspections", projects_views.InspectionViewSet, basename="project-inspection"
)
router.register(
    r"projects/(?P<project_pk>[0-9]+)/rectifications",
    projects_views.RectificationViewSet,
    basename="project-rectification",
)
router.register(
    r"projects/(?P<project_pk>[0-9]+)/documents", projects_views.DocumentViewSet, basename="project-document"
)
router.register(
    r"projects/(?P<project_pk>[0-9]+)/milestones", projects_views.MilestoneViewSet, basename="project-milestone"
)
router.register(
    r"projects/(?P<project_pk>[0-9]+)/operation-reports",
    OperationReportViewSet,
    basename="project-operation-report",
)
router.register("exports", ExportViewSet, basename="export")
router.register("imports", ImportViewSet, basename="import")
router.register("evaluation/frameworks", evaluation_views.FrameworkViewSet, basename="evaluation-framework")
router.register("evaluation/runs", evaluation_views.RunViewSet, basename="evaluation-run")
router.register("evaluation/project-scores", evaluation_views.ProjectScoreViewSet, basename="evaluation-project-score")
router.register("evaluation/scorecards", evaluation_views.ScorecardViewSet, basename="evaluation-scorecard")
router.register("evaluation/rankings", evaluation_views.RankingViewSet, basename="evaluation-ranking")
router.register("evaluation/expert-scores", evaluation_views.ExpertScoreViewSet, basename="evaluation-expert-score")
router.register(
    "evaluation/satisfaction-ratings", evaluation_views.RatingViewSet, basename="evaluation-satisfaction-rating"
)
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register(r"webhooks/(?P<webhook_pk>[0-9]+)/deliveries", DeliveryViewSet, basename="webhook-delivery")

app_name = "api"
urlpatterns = [
    path("auth/login/", accounts_views.LoginView.as_view(), name="auth-login"),
    path("auth/logout/", accounts_views.LogoutView.as_view(), name="auth-logout"),
    path("me/", accounts_views.MeView.as_view(), name="me"),
    path("events/", EventView.as_view(), name="events"),
    path("iati/activities.xml", IATIActivitiesView.as_view(), name="iati-activities"),
    path("map/", MapView.as_view(), name="map"),
    # One handover per project: the resource itself, not a list, and its two answers.
    path(
        "projects/<int:project_pk>/handover/",
        HandoverViewSet.as_view({"get": "retrieve_handover", "post": "record"}),
        name="project-handover",
    ),
    path(
        "projects/<int:project_pk>/handover/confirm/",
        HandoverViewSet.as_view({"post": "confirm"}),
        name="project-handover-confirm",
    ),
    path(
        "projects/<int:project_pk>/handover/refuse/",
        HandoverViewSet.as_view({"post": "refuse"}),
        name="project-handover-refuse",
    ),
    path("", include(router.urls)),
]
