"""Any background job is followed at /api/v1/jobs/{id}, in one shape, by its creator."""

import pytest

from salesplan.core.models import BackgroundJob

pytestmark = pytest.mark.django_db


def _job(user, kind="territory_assignment", **fields) -> BackgroundJob:
    return BackgroundJob.objects.create(kind=kind, created_by=user, **fields)


def test_the_creator_follows_a_job_of_any_app(org, api_as):
    job = _job(org.west_manager, status=BackgroundJob.Status.RUNNING, progress_done=30,
               progress_total=120, message="Assigning accounts")
    answer = api_as(org.west_manager).get(f"/jobs/{job.pk}")
    assert answer.status_code == 200
    assert answer.data["kind"] == "territory_assignment"
    assert answer.data["status"] == "running" and answer.data["percent"] == 25
    assert answer.data["finished"] is False and answer.data["download_url"] is None


def test_a_finished_job_shows_its_outcome(org, api_as):
    job = _job(org.west_rep, kind="quality_scan", status=BackgroundJob.Status.SUCCEEDED,
               result={"issues": 7})
    answer = api_as(org.west_rep).get(f"/jobs/{job.pk}")
    assert answer.data["percent"] == 100 and answer.data["finished"] is True
    assert answer.data["result"] == {"issues": 7}


def test_someone_elses_job_looks_missing_except_to_an_admin(org, api_as):
    job = _job(org.west_rep)
    for other in (org.west_rep2, org.west_manager, org.executive):
        answer = api_as(other).get(f"/jobs/{job.pk}")
        assert answer.status_code == 404, other
        missing = api_as(other).get("/jobs/999999").data
        assert answer.data["detail"].replace(str(job.pk), "N") == \
            missing["detail"].replace("999999", "N")
    assert api_as(org.admin).get(f"/jobs/{job.pk}").status_code == 200


def test_the_list_shows_only_ones_own_jobs_newest_first(org, api_as):
    mine = [_job(org.west_rep, kind=k) for k in ("import", "export", "import")]
    _job(org.east_rep)
    answer = api_as(org.west_rep).get("/jobs")
    assert [j["id"] for j in answer.data] == [j.pk for j in reversed(mine)]
    imports = api_as(org.west_rep).get("/jobs", kind="import")
    assert [j["id"] for j in imports.data] == [mine[2].pk, mine[0].pk]


def _accepted_schemas() -> dict[str, str]:
    from salesplan.config.api import api

    found = {}
    for path, operations in api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            answers = operation.get("responses", {})
            answer = answers.get(202) or answers.get("202")
            if answer:
                ref = answer["content"]["application/json"]["schema"]["$ref"]
                found[f"{method.upper()} {path}"] = ref.rsplit("/", 1)[-1]
    return found


def test_every_endpoint_that_starts_work_answers_the_one_job_shape():
    from salesplan.config.api import api

    accepted = _accepted_schemas()
    # Runs with their own resource, and a form capture that is not a job.
    others = {"POST /api/v1/territories/alignments/{id}/optimise": "OptimisationOut",
              "POST /api/v1/plans/{plan_id}/effort-runs": "EffortRunOut",
              # a changed setting redoes the run in the background
              "PATCH /api/v1/plans/{plan_id}/effort-runs/{run_id}": "EffortRunOut",
              "POST /api/v1/marketing/capture/{form_key}": "CaptureOut"}
    assert {k: v for k, v in accepted.items() if v != "JobOut"} == others
    assert len(accepted) - len(others) >= 12
    schemas = api.get_openapi_schema()["components"]["schemas"]
    assert [name for name in schemas if name.endswith("JobOut")] == ["JobOut"]


def test_a_started_job_is_followed_at_its_location(org, api_as,
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        started = api_as(org.admin).post("/health/compute")
    assert started.status_code == 202 and started.data["kind"] == "health_compute"
    assert started["Location"] == f"/api/v1/jobs/{started.data['id']}"
    followed = api_as(org.admin).get(f"/jobs/{started.data['id']}")
    assert followed.data["id"] == started.data["id"]
    assert followed.data["status"] == "succeeded" and followed.data["finished"] is True
