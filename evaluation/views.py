from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse


def _todo(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise Http404


run_list = run_start = run_compare = run_detail = run_progress = rankings = login_required(_todo)
scorecard_detail = project_score_detail = project_latest_score = login_required(_todo)
expert_score_submit = satisfaction_submit = ratings = login_required(_todo)
