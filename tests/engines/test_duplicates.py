"""The duplicate-matching engine: normalisation, blocking and scoring."""

import pytest

from salesplan.engines.duplicates import (
    Records,
    ScanStats,
    find_duplicates,
    name_tokens,
    normalise_domain,
    normalise_email,
    normalise_phone,
)


def test_normalisers():
    assert normalise_email(" Pat.Lee+crm@Example.COM ") == "pat.lee@example.com"
    assert normalise_email("p.a.t@googlemail.com") == "pat@gmail.com"
    assert normalise_email("not an address") == ""
    assert normalise_phone("+1 (415) 555-0101") == "4155550101"
    assert normalise_phone("415.555.0101") == "4155550101"
    assert normalise_phone("555-01") == ""
    assert normalise_domain("https://www.Acme.com/about") == "acme.com"
    assert normalise_domain("pat@acme.com") == "acme.com"
    assert normalise_domain("pat@gmail.com") == ""
    assert name_tokens("Acme, Inc.", company=True) == ["acme"]
    assert name_tokens("Smith, José") == ["jose", "smith"]


def people(**columns) -> Records:
    return Records(ids=list(range(1, len(columns["names"]) + 1)), **columns)


def pairs(found) -> dict[tuple[int, int], int]:
    return {(c.left_id, c.right_id): c.score for c in found}


def test_known_people_pairs_are_found_and_distinct_people_are_not():
    records = people(
        names=["John Smith", "Jon Smith", "Smith, John", "Mary Jones", "Mary Jones",
               "Ann Lee", "Anne Lee", "Zoe Park"],
        emails=["john@acme.com", "JOHN@ACME.COM", "", "mary@one.com", "mj@two.com",
                "ann@x.com", "anne@y.com", ""],
        phones=["", "", "+1 415 555 0101", "", "", "", "", "(415) 555-0101"],
        groups=[10, 11, 10, 20, 21, 30, 30, 40],
    )
    found = pairs(find_duplicates(records))
    # typo in the name, same e-mail: 0.7 × 95 + 30 = 96.5 → 96 (round half to even)
    assert found[(1, 2)] == 96
    # swapped order, same account: 0.7 × 100 + 30
    assert found[(1, 3)] == 100
    # "Ann Lee" / "Anne Lee" at the same account
    assert (6, 7) in found
    # two different Mary Joneses at different companies share only a name (at most 70)
    assert (4, 5) not in found
    # the same phone but entirely different names: 0.7 × similarity + 30 < 85
    assert (3, 8) not in found


def test_reasons_name_the_evidence():
    records = people(names=["Pat Lee", "Pat Lea"], emails=["pat@a.com", "pat@a.com"],
                     phones=["4155550101", "415-555-0101"], groups=[1, 2])
    (candidate,) = find_duplicates(records)
    assert candidate.reasons[0].startswith("name ")
    assert "same e-mail" in candidate.reasons and "same phone" in candidate.reasons
    assert "same account" not in candidate.reasons


def test_companies_match_on_domain_name_and_city():
    records = Records(
        ids=[1, 2, 3, 4, 5],
        names=["Acme, Inc.", "ACME Incorporated", "Acme Widgets", "Globex", "Globex Corp"],
        domains=["acme.com", "https://www.acme.com", "", "globex.com", "globex.de"],
        groups=["Austin", "Dallas", "Austin", "Reno", "Boston"], company=True)
    found = pairs(find_duplicates(records))
    assert found[(1, 2)] == 100  # same name after the legal form, same domain
    assert (4, 5) in found  # the very same name (weak evidence): 0.7 × 100 + 15 = 85
    assert found[(4, 5)] == 85
    assert (1, 3) not in found  # "acme" vs "acme widgets" in one city: 0.7 × 50 + 15


def test_large_blocks_use_sorted_neighbourhood_and_still_find_twins():
    names = [f"Person {i:05d}" for i in range(500)] + ["Person 00007x"]
    records = people(names=names, emails=[""] * 501, phones=[""] * 501, groups=[1] * 501)
    stats = ScanStats()
    found = pairs(find_duplicates(records, max_block=50, window=3, stats=stats))
    assert stats.pairs_compared <= 501 * 3  # not 501 × 500 / 2
    assert (8, 501) in found


@pytest.mark.parametrize("n", [0, 1])
def test_too_few_records(n):
    assert find_duplicates(people(names=["A B"] * n, groups=[1] * n)) == []


def test_a_phone_shared_by_very_many_records_identifies_nobody():
    n = 60
    records = people(names=[f"Person {i}" for i in range(n)] + ["Person 7"],
                     emails=[""] * (n + 1), phones=["+1 415 555 0100"] * (n + 1),
                     groups=[None] * (n + 1))
    stats = ScanStats()
    assert find_duplicates(records, max_shared=25, stats=stats) == []
    assert stats.pairs_compared == 0
    # below the limit the same phone is evidence: "Person 7" twice → 0.7 × 100 + 30
    small = people(names=["Person 7", "Person 7", "Person 8"], emails=[""] * 3,
                   phones=["4155550100"] * 3, groups=[None] * 3)
    assert pairs(find_duplicates(small))[(1, 2)] == 100


def test_limit_keeps_the_best_pairs():
    records = people(names=["Pat Lee", "Pat Lee", "Pat Lea", "Pat Loo"],
                     emails=[""] * 4, phones=[""] * 4, groups=[1, 1, 1, 1])
    (best,) = find_duplicates(records, limit=1)
    assert (best.left_id, best.right_id, best.score) == (1, 2, 100)
