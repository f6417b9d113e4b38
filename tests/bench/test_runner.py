"""The request benchmark's report: each path against the floor that took its requests, and the
plain GET /floor beside it; the targets judged on the matched ratio."""

from bench.run import FLOOR, Result, Summary, floor_for, requests_of, targets


def _result(path, rps, round_=0, p99=10.0):
    return Result("granian", path, rps, 1.0, p99, 1000, 0, 0.0, round=round_)


def _round(round_, plain, matched, data):
    return [
        _result(FLOOR, plain, round_),
        _result(floor_for("glance_data"), matched, round_),
        _result("glance_data", data, round_),
    ]


def test_a_path_is_compared_with_its_own_floor_and_the_plain_one():
    results = _round(0, 10_000, 8_000, 6_000) + _round(1, 12_000, 9_000, 4_500)
    by_path = {s.path: s for s in Summary.of(results)}
    data = by_path["glance_data"]
    assert data.ratio == (6_000 / 8_000 + 4_500 / 9_000) / 2  # median of two: their mean
    assert data.plain_ratio == (6_000 / 10_000 + 4_500 / 12_000) / 2
    assert by_path[floor_for("glance_data")].ratio == 1.0
    assert by_path[floor_for("glance_data")].plain_ratio == (0.8 + 0.75) / 2


def test_the_throughput_target_is_judged_on_the_matched_floor():
    met = Summary.of(_round(0, 10_000, 8_000, 5_000))  # 0.62 of its floor, 0.50 plain
    assert not any("glance data at" in sentence for sentence in targets(met, {}))
    missed = Summary.of(_round(0, 10_000, 10_000, 5_000))
    assert "granian: glance data at 50% of the floor (target 60%)" in targets(missed, {})


def test_floors_send_their_path_s_requests():
    assert requests_of(FLOOR) is None
    assert requests_of(floor_for("fme_issues")) == "fme_issues"
    assert requests_of("glance_page") == "glance_page"
