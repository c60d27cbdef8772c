"""The benchmark company is a function of its seed: figures measured on two builds with
the same arguments compare like with like."""

import sys
from pathlib import Path

import pytest
from django.db import transaction

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import build_company  # noqa: E402


class _Rollback(Exception):
    pass


def _built_digest(seed: int) -> str:
    args = build_company.parse_args(["--accounts", "30", "--deals-per-account", "3",
                                     "--teams", "2", "--reps-per-team", "2",
                                     "--seed", str(seed)])
    args.as_of, args.skip_migrate = args.as_of_moment, True
    found = ""
    try:
        with transaction.atomic():
            build_company.bench_quality.build(args)
            found = build_company.digest()
            raise _Rollback
    except _Rollback:
        pass
    return found


@pytest.mark.django_db
def test_same_seed_builds_the_same_company_and_another_seed_another():
    first = _built_digest(5)
    assert first
    assert _built_digest(5) == first
    assert _built_digest(6) != first
