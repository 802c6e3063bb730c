"""Every API route under /api/v1/: apps contribute viewsets here and nowhere else."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from accounts import api as accounts_api
from core.api.views import RegionViewSet
from evaluation import api as evaluation_api
from pairings import api as pairings_api
from projects import api as projects_api

router = DefaultRouter()
router.register("regions", RegionViewSet, basename="region")
router.register("organizations", accounts_api.OrganizationViewSet, basename="organization")
router.register("users", accounts_api.UserViewSet, basename="user")
router.register("programs", pairings_api.ProgramViewSet, basename="program")
router.register("pairings", pairings_api.PairingViewSet, basename="pairing")
router.register(r"pairings/(?P<pairing_pk>[0-9]+)/mandates", pairings_api.MandateViewSet, basename="pairing-mandate")
router.register("fiscal-revenues", pairings_api.FiscalRevenueViewSet, basename="fiscal-revenue")
router.register("fund-flows", pairings_api.FundFlowViewSet, basename="fund-flow")
router.register("deployments", pairings_api.DeploymentViewSet, basename="deployment")
router.register("trainings", pairings_api.TrainingViewSet, basename="training")
router.register("projects", projects_api.ProjectViewSet, basename="project")
router.register(r"projects/(?P<project_pk>[0-9]+)/history", projects_api.HistoryViewSet, basename="project-history")
router.register(
    r"projects/(?P<project_pk>[0-9]+)/progress-reports",
    projects_api.ProgressReportViewSet,
    basename="project-progress-report",
)
router.register(
    r"projects/(?P<project_pk>[0-9]+)/inspections", projects_api.InspectionViewSet, basename="project-inspection"
)
router.register(
    r"projects/(?P<project_pk>[0-9]+)/rectifications",
    projects_api.RectificationViewSet,
    basename="project-rectification",
)
router.register(r"projects/(?P<project_pk>[0-9]+)/documents", projects_api.DocumentViewSet, basename="project-document")
router.register(
    r"projects/(?P<project_pk>[0-9]+)/milestones", projects_api.MilestoneViewSet, basename="project-milestone"
)
router.register("evaluation/frameworks", evaluation_api.FrameworkViewSet, basename="evaluation-framework")
router.register("evaluation/runs", evaluation_api.RunViewSet, basename="evaluation-run")
router.register("evaluation/project-scores", evaluation_api.ProjectScoreViewSet, basename="evaluation-project-score")
router.register("evaluation/scorecards", evaluation_api.ScorecardViewSet, basename="evaluation-scorecard")
router.register("evaluation/rankings", evaluation_api.RankingViewSet, basename="evaluation-ranking")
router.register("evaluation/expert-scores", evaluation_api.ExpertScoreViewSet, basename="evaluation-expert-score")
router.register(
    "evaluation/satisfaction-ratings", evaluation_api.RatingViewSet, basename="evaluation-satisfaction-rating"
)

app_name = "api"
urlpatterns = [
    path("auth/login/", accounts_api.LoginView.as_view(), name="auth-login"),
    path("auth/logout/", accounts_api.LogoutView.as_view(), name="auth-logout"),
    path("me/", accounts_api.MeView.as_view(), name="me"),
    path("", include(router.urls)),
]
