"""Sweeps on data sets: the one-sample reduction, NumPy float64 loops, the C reference."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from oracles import descend, z_recursion
from xent_jax import sweep as S
from xent_jax.core import _datasets as datasets

# the C reference, vendored (benchmarks/reference/README.md says where it came from)
REFERENCE = (
    Path(__file__).resolve().parents[1] / "benchmarks" / "reference" / "reference_sweep_data.c"
)


@pytest.mark.parametrize("x", [2.0, 0.5, -1.5])
@pytest.mark.parametrize("loss", ["mse", "ce"])
def test_one_sample_sweep_is_a_one_dimensional_recursion_in_z0(loss, x):
    # 2-D sweep over (w0, b0) against the 1-D recursion from z0 = w0·x + b0, at every start
    eta = {"mse": 0.15, "ce": 0.05}[loss]
    result = S.sweep(
        loss, resolution=(17, 13), epochs=200, x=x, y=0.0, learning_rate=eta, dtype="float64"
    )
    ww, bb = np.meshgrid(result.w0, result.b0)
    takeoff, half = z_recursion(loss, ww * x + bb, x, 0.0, eta, 200)
    m = result.metrics[loss]
    for got, expected in ((m.takeoff_epoch, takeoff), (m.half_error_epoch, half)):
        assert np.mean(got == expected) >= 0.99  # rounding of w and b apart from z: ties only
        assert np.all(np.abs(got - expected) <= 1)
        assert np.array_equal(got < 0, expected < 0)


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_one_sample_maps_depend_on_the_start_only_through_z0(optimizer):
    # x = 2 on a grid of step ½: z0 = 2·w0 + b0 repeats exactly (dyadic), and every start with
    # the same z0 has the same metrics (within the one epoch a rounding tie can move)
    result = S.sweep(
        resolution=(9, 9), w_range=(-2, 2), b_range=(-2, 2), epochs=150, x=2.0,
        learning_rate=0.05, optimizer=optimizer, dtype="float64",
    )  # fmt: skip
    ww, bb = np.meshgrid(result.w0, result.b0)
    z0 = 2 * ww + bb
    shared = 0
    for value in np.unique(z0):
        cells = z0 == value
        if cells.sum() < 2:
            continue
        shared += 1
        for m in result.metrics.values():
            for field in (m.takeoff_epoch, m.half_error_epoch):
                assert np.ptp(field[cells]) <= 1, (optimizer, value)
    assert shared > 10


@pytest.mark.parametrize(
    "data",
    [
        "pull",
        pytest.param("separable", marks=pytest.mark.slow),
        pytest.param("overlap", marks=pytest.mark.slow),
        "0.3:0.2,-1.2:0.9,2:0.4",
    ],
)
@pytest.mark.parametrize("loss", ["mse", "ce"])
def test_data_sweep_matches_independent_numpy_loop(loss, data):
    samples = datasets.load(data)
    result = S.sweep(
        loss, resolution=(7, 6), epochs=150, learning_rate=0.4, data=data, dtype="float64"
    )
    ww, bb = np.meshgrid(result.w0, result.b0)
    reference = descend(loss, ww, bb, samples.x, samples.y, 0.4, 150)
    m = result.metrics[loss]
    np.testing.assert_array_equal(m.takeoff_epoch, reference.takeoff_epoch())
    np.testing.assert_array_equal(m.half_error_epoch, reference.half_error_epoch())
    np.testing.assert_allclose(m.final_loss, reference.loss[-1], rtol=1e-9)
    np.testing.assert_allclose(m.final_output, reference.output[-1].mean(-1), rtol=1e-9)
    s = result.summary()
    assert s["samples"] == samples.size and s["data"] == samples.pairs()
    assert s["sample_epochs_per_second"] == pytest.approx(
        samples.size * s["config_epochs_per_second"]
    )


def test_data_map_is_genuinely_two_dimensional():
    # on two samples at different x, starts with equal w0 + b0 no longer share their fate
    result = S.sweep("mse", resolution=(9, 9), w_range=(-4, 4), b_range=(-4, 4), epochs=300,
                     learning_rate=0.5, data="pull", dtype="float64")  # fmt: skip
    half = result.metrics["mse"].half_error_epoch
    anti_diagonal = half[::-1].diagonal()  # w0 + b0 = 0 along it
    assert np.ptp(anti_diagonal) > 50


@pytest.fixture(scope="module")
def c_reference(tmp_path_factory):
    """reference_sweep_data.c, built once (CI requires cc: .ci/run refuses to start without)."""
    if shutil.which("cc") is None:
        pytest.skip("needs a C compiler (cc) for the C cross-check")
    binary = tmp_path_factory.mktemp("c") / "reference_sweep_data"
    subprocess.run(
        ["cc", "-O3", "-march=native", "-ffast-math", "-fopenmp", str(REFERENCE), "-o",
         str(binary), "-lm"], check=True,
    )  # fmt: skip
    return binary


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["mse", "ce"])
def test_float32_data_sweep_agrees_with_the_c_reference(loss, c_reference, tmp_path):
    binary, out = c_reference, tmp_path / "metrics.bin"
    data, r, epochs, eta = "1:0,-1:1,0.5:1,2:0", 48, 300, 0.15
    subprocess.run(
        [str(binary), loss, str(r), str(epochs), str(eta), data, "-4", "4", "-4", "4", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    reference = np.fromfile(out, np.int32).reshape(2, r, r)
    result = S.sweep(loss, resolution=r, epochs=epochs, learning_rate=eta, data=data)
    m = result.metrics[loss]
    for got, expected in zip((m.takeoff_epoch, m.half_error_epoch), reference, strict=True):
        assert np.mean(got == expected) >= 0.99
        assert np.all(np.abs(got - expected) <= 2)


def test_data_spec_refuses_bad_samples():
    with pytest.raises(ValueError, match="sample 1: y must lie in"):
        S.SweepSpec.build(data="1:0,2:3")
    spec = S.SweepSpec.build(data="0.5:1")  # one sample is the one-sample sweep
    assert (spec.settings.x, spec.settings.y, spec.samples) == (0.5, 1.0, 1)
