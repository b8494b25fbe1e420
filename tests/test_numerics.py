"""The float32 numerics report, checked against 200-digit mpmath values of the definition."""

import mpmath
import numpy as np
import pytest

from xent_jax.softmax._numerics import numerics_report


@pytest.fixture(scope="module")
def rows():
    return numerics_report((1.0, 20.0, 50.0, 89.0, 104.0, 1e4))


def _closed_form(case, gap):
    # Independent of the library's closed form: the definition −log softmax(x)[0] and its
    # gradient softmax(x)[0] − 1 in 200-digit mpmath (log(e^z + 2) − z keeps the tiny loss
    # only with digits to spare), for right = (z, 0, 0), wrong = (0, z, 0).
    with mpmath.workdps(200):
        x = [mpmath.mpf(gap), 0, 0] if case == "right" else [0, mpmath.mpf(gap), 0]
        total = mpmath.fsum(mpmath.exp(v) for v in x)
        return float(mpmath.log(total) - x[0]), float(mpmath.exp(x[0]) / total - 1)


@pytest.mark.slow
def test_fused_loses_relative_precision_only_where_its_terms_are_subnormal():
    (row,) = [r for r in numerics_report((87.0, 88.0)) if r["case"] == "right" and r["gap"] == 88]
    exact, _ = _closed_form("right", 88.0)
    assert exact > float(np.finfo(np.float32).tiny)  # 1.21e-38: still a normal float32
    assert row["fused"] == 0.0  # e^−88 is subnormal and flushed: the documented limit
    (row,) = [r for r in numerics_report((87.0,)) if r["case"] == "right"]
    assert row["fused"] == pytest.approx(_closed_form("right", 87.0)[0], rel=1e-7)


@pytest.mark.slow
def test_fused_is_exact_where_the_naive_form_breaks(rows):
    tiny = float(np.finfo(np.float32).tiny)
    for row in rows:
        loss, grad = _closed_form(row["case"], row["gap"])
        assert row["exact"] == pytest.approx(loss, rel=1e-12, abs=0)
        assert row["fused"] == pytest.approx(loss, rel=5e-7, abs=4 * tiny), row
        assert row["fused_grad"] == pytest.approx(grad, abs=1.2e-7), row
        assert row["fused_ok"]
        if row["gap"] >= 89:  # e^z overflows float32, or softmax is flushed to 0
            assert not np.isfinite(row["naive"]) and not np.isfinite(row["naive_grad"])


@pytest.mark.slow
def test_naive_form_loses_small_losses_and_their_gradient(rows):
    right = {row["gap"]: row for row in rows if row["case"] == "right"}
    for gap in (20.0, 50.0):
        assert right[gap]["naive"] == 0.0  # softmax rounded to 1
        assert right[gap]["fused"] == pytest.approx(2 * np.exp(-gap), rel=1e-6)
    assert right[50.0]["naive_grad"] == pytest.approx(-1.0)  # order one, where exact is −8e-22


@pytest.mark.slow
def test_confidently_wrong_still_gets_a_gradient_of_order_one(rows):
    for row in rows:
        if row["case"] == "wrong" and row["gap"] >= 20:
            assert row["fused"] == pytest.approx(row["gap"], rel=1e-7)
            assert row["fused_grad"] == pytest.approx(-1.0, abs=1e-7)
