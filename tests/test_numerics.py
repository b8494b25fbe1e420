"""The float32 numerics report, checked against closed forms computed here."""

import numpy as np
import pytest

from xent_jax.numerics import numerics_report


@pytest.fixture(scope="module")
def rows():
    return numerics_report((1.0, 20.0, 50.0, 89.0, 104.0, 1e4))


def _closed_form(case, gap):
    # three classes, target 0: right = (z, 0, 0), wrong = (0, z, 0); float64 with log1p
    tail = 2 * np.exp(-gap)
    loss = np.log1p(tail) if case == "right" else gap + np.log1p(tail)
    p_target = 1 / (1 + tail) if case == "right" else np.exp(-gap) / (1 + tail)
    return loss, p_target - 1


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


def test_naive_form_loses_small_losses_and_their_gradient(rows):
    right = {row["gap"]: row for row in rows if row["case"] == "right"}
    for gap in (20.0, 50.0):
        assert right[gap]["naive"] == 0.0  # softmax rounded to 1
        assert right[gap]["fused"] == pytest.approx(2 * np.exp(-gap), rel=1e-6)
    assert right[50.0]["naive_grad"] == pytest.approx(-1.0)  # order one, where exact is −8e-22


def test_confidently_wrong_still_gets_a_gradient_of_order_one(rows):
    for row in rows:
        if row["case"] == "wrong" and row["gap"] >= 20:
            assert row["fused"] == pytest.approx(row["gap"], rel=1e-7)
            assert row["fused_grad"] == pytest.approx(-1.0, abs=1e-7)
