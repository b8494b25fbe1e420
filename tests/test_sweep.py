"""The sweep against the single-run API, the CLI's train, and an independent NumPy loop."""

import json
import time

import numpy as np
import pytest

from oracles import descend
from oracles import epoch as _epoch
from xent_jax import sweep as S
from xent_jax import train
from xent_jax.cli import main

EPOCHS = 120
# A non-square grid, so a transposed [j, i] would show; x ≠ 1 so w and b move differently.
GRID = dict(w_range=(-3.0, 3.5), b_range=(-2.5, 4.0), resolution=(6, 5), epochs=EPOCHS, x=1.5)


@pytest.fixture(scope="module")
def atlas():
    return S.sweep(**GRID)


def test_layout_and_axes(atlas):
    assert atlas.w0.shape == (6,) and atlas.b0.shape == (5,)
    np.testing.assert_allclose(atlas.w0, np.linspace(-3.0, 3.5, 6).astype(np.float32))
    np.testing.assert_allclose(atlas.b0, np.linspace(-2.5, 4.0, 5).astype(np.float32))
    assert set(atlas.arrays()) == {"w0", "b0"} | {
        f"{loss}_{field}" for loss in ("mse", "ce") for field in S.FIELDS
    }
    for m in atlas.metrics.values():
        assert m.takeoff_epoch.shape == (5, 6) and m.takeoff_epoch.dtype == np.int32
        assert m.final_loss.dtype == np.float32
    assert atlas.runs == 2 * 30


@pytest.mark.parametrize("loss", ["mse", "ce"])
def test_every_start_equals_train_exactly(atlas, loss):
    """Same dynamics, same dtype, same compiled arithmetic: bit-equal, start by start."""
    m = atlas.metrics[loss]
    eta = atlas.config["learning_rates"][loss]
    for j, b0 in enumerate(atlas.b0):
        for i, w0 in enumerate(atlas.w0):
            run = train(loss, float(w0), float(b0), learning_rate=eta, epochs=EPOCHS, x=1.5)
            assert m.takeoff_epoch[j, i] == _epoch(run.takeoff_epoch)
            assert m.half_error_epoch[j, i] == _epoch(run.half_error_epoch)
            assert m.final_loss[j, i] == np.float32(run.final_loss)
            assert m.final_output[j, i] == np.float32(run.final_output)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("loss", "optimizer", "dtype"),
    [("mse", "momentum", "float32"), ("ce", "sgd", "float64"), ("mse", "adam", "float32")],
)
def test_sampled_starts_equal_train_for_other_settings(loss, optimizer, dtype):
    """Exact, except Adam: its sqrt and division compile to vector code in the sweep and to
    scalar code in train(), which may differ in the last bit; epochs then agree within one.
    """
    rule = "autodiff"
    exact = optimizer != "adam"
    result = S.sweep(
        loss,
        resolution=3,
        epochs=EPOCHS,
        optimizer=optimizer,
        rule=rule,
        dtype=dtype,
        learning_rate=0.3,
    )
    for loss, m in result.metrics.items():
        for j, i in [(0, 0), (1, 2), (2, 1)]:
            run = train(
                loss,
                float(result.w0[i]),
                float(result.b0[j]),
                optimizer=optimizer,
                rule=rule,
                dtype=dtype,
                learning_rate=result.config["learning_rates"][loss],
                epochs=EPOCHS,
            )
            if exact:
                assert m.takeoff_epoch[j, i] == _epoch(run.takeoff_epoch)
                assert m.half_error_epoch[j, i] == _epoch(run.half_error_epoch)
                assert m.final_output[j, i] == np.asarray(run.final_output, dtype)
            else:
                assert abs(m.takeoff_epoch[j, i] - _epoch(run.takeoff_epoch)) <= 1
                assert abs(m.half_error_epoch[j, i] - _epoch(run.half_error_epoch)) <= 1
                assert m.final_output[j, i] == pytest.approx(
                    run.final_output, rel=1e-5, nan_ok=True
                )


@pytest.mark.slow
def test_book_rule_matches_train_to_rounding():
    """The book rule's cosh is compiled to vector code in the sweep and scalar code in train():
    the two differ in the last bit, so outputs agree to float32 rounding and epochs within one.
    """
    result = S.sweep("ce", resolution=3, epochs=EPOCHS, rule="book", optimizer="momentum")
    m = result.metrics["ce"]
    for j in range(3):
        for i in range(3):
            run = train(
                "ce",
                float(result.w0[i]),
                float(result.b0[j]),
                rule="book",
                optimizer="momentum",
                learning_rate=0.005,
                epochs=EPOCHS,
            )
            assert abs(m.takeoff_epoch[j, i] - _epoch(run.takeoff_epoch)) <= 1
            assert abs(m.half_error_epoch[j, i] - _epoch(run.half_error_epoch)) <= 1
            assert m.final_output[j, i] == pytest.approx(run.final_output, rel=1e-5, nan_ok=True)


def test_sampled_starts_equal_cli_train(atlas, capsys):
    for loss in ("mse", "ce"):
        for j, i in [(1, 4), (4, 0)]:
            w0, b0 = float(atlas.w0[i]), float(atlas.b0[j])
            argv = ["train", "--loss", loss, "--w0", repr(w0), "--b0", repr(b0), "--x", "1.5"]
            eta = atlas.config["learning_rates"][loss]
            argv += ["--learning-rate", repr(eta), "--epochs", str(EPOCHS), "--json"]
            assert main(argv) == 0
            summary = json.loads(capsys.readouterr().out)
            m = atlas.metrics[loss]
            assert m.takeoff_epoch[j, i] == _epoch(summary["takeoff_epoch"])
            assert m.half_error_epoch[j, i] == _epoch(summary["half_error_epoch"])
            assert m.final_output[j, i] == np.float32(summary["final_output"])


@pytest.mark.parametrize("loss", ["mse", "ce"])
def test_float64_sweep_matches_independent_numpy_loop(loss):
    """Same math, different arithmetic (jax.grad vs the hand formula): equal up to rounding.

    An epoch metric can move by one where two compared values are equal to rounding (the
    gradient norm at its peak, the error at exactly half), so epochs agree within one, and
    exactly almost everywhere.
    """
    result = S.sweep(loss, resolution=24, epochs=EPOCHS, dtype="float64", x=1.5)
    ww, bb = np.meshgrid(result.w0, result.b0)
    eta = result.config["learning_rates"][loss]
    reference = descend(loss, ww, bb, 1.5, 0.0, eta, EPOCHS)
    takeoff, half = reference.takeoff_epoch(), reference.half_error_epoch()
    final, a = reference.loss[-1], reference.output[-1, ..., 0]
    m = result.metrics[loss]
    for got, want in ((m.takeoff_epoch, takeoff), (m.half_error_epoch, half)):
        assert np.all((got < 0) == (want < 0)) or np.all(np.abs(got - want) <= 1)
        assert np.all(np.abs(got - want) <= 1)
        assert np.mean(got == want) > 0.98
    np.testing.assert_allclose(m.final_output, a, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(m.final_loss, final, rtol=1e-9)


def test_float32_sweep_within_one_epoch_of_float64_numpy_loop():
    """float32 rounding moves a metric only where float64 sits within rounding of a tie."""
    result = S.sweep("mse", resolution=24, epochs=EPOCHS, x=1.5, w_range=(-2, 2))
    ww, bb = np.meshgrid(result.w0.astype(np.float64), result.b0.astype(np.float64))
    reference = descend("mse", ww, bb, 1.5, 0.0, 0.15, EPOCHS)
    takeoff, half = reference.takeoff_epoch(), reference.half_error_epoch()
    a = reference.output[-1, ..., 0]
    m = result.metrics["mse"]
    assert np.max(np.abs(m.takeoff_epoch - takeoff)) <= 1
    assert np.max(np.abs(m.half_error_epoch - half)) <= 1
    np.testing.assert_allclose(m.final_output, a, rtol=1e-4)


def test_run_configs_broadcasts_learning_rates():
    """A list of learning rates against a grid equals one sweep per learning rate."""
    etas = np.array([0.05, 0.5])
    w0 = np.linspace(-2, 2, 4)
    got = S.run_configs("mse", w0[None, :], 1.0, learning_rate=etas[:, None], epochs=EPOCHS)
    assert got.takeoff_epoch.shape == (2, 4)
    for k, eta in enumerate(etas):
        for i, w in enumerate(w0):
            run = train("mse", float(np.float32(w)), 1.0, learning_rate=float(eta), epochs=EPOCHS)
            assert got.half_error_epoch[k, i] == _epoch(run.half_error_epoch)
            assert got.final_output[k, i] == np.float32(run.final_output)


@pytest.mark.parametrize(("loss", "eta"), [("mse", 0.15), ("ce", 0.005)])
def test_run_configs_defaults_to_the_loss_learning_rate(loss, eta):
    """Without ``learning_rate`` each configuration trains at the seed's η for its loss
    (numpy ≥ 2 returns broadcast_arrays as a tuple, which this path once assigned into)."""
    w0 = np.linspace(-2.0, 2.0, 5)
    got = S.run_configs(loss, w0, 2.0, epochs=EPOCHS, dtype="float64")
    loop = descend(loss, w0, 2.0, 1.0, 0.0, eta, EPOCHS)
    assert got.half_error_epoch.shape == (5,)
    assert np.max(np.abs(got.half_error_epoch - loop.half_error_epoch())) <= 1
    # the final outputs tell the η apart where every start is still censored (the ce at 0.005)
    np.testing.assert_allclose(got.final_output, loop.output[-1, :, 0], rtol=1e-9)


def test_gradient_flow_time_against_numpy_loop():
    """η × (the NumPy loop's half-error epoch), NaN where it is censored (float64, ±1 epoch)."""
    eta = 0.15
    result = S.sweep("mse", resolution=(6, 5), epochs=EPOCHS, x=1.5, dtype="float64")
    ww, bb = np.meshgrid(result.w0, result.b0)
    half = descend("mse", ww, bb, 1.5, 0.0, eta, EPOCHS).half_error_epoch()
    t = result.time("mse", "half_error_epoch")
    assert np.array_equal(np.isnan(t), half < 0) and np.any(half > 0)
    assert np.all(np.abs(t[half > 0] - eta * half[half > 0]) <= eta * (1 + 1e-12))


def test_summary_counts_runs_and_throughput():
    """Runs and settings as given; the compute time within the wall-clock time around it."""
    started = time.perf_counter()
    result = S.sweep(**GRID)
    wall = time.perf_counter() - started
    s = result.summary()
    assert s["runs"] == 6 * 5 * 2 and s["device_count"] >= 1
    assert 0 < s["compute_seconds"] <= wall
    assert s["config_epochs_per_second"] >= 60 * EPOCHS / wall
    assert s["learning_rates"] == {"mse": 0.15, "ce": 0.005}


@pytest.mark.parametrize(
    ("resolution", "dtype", "rows"),
    [
        # b0 rows of R starts with 12 values each (2 inputs, 4 outputs, on the device and on
        # the host) in 64 MiB: floor(2^26 / (12 · itemsize · R)), at most R.
        (2, "float32", 2),
        (100, "float32", 100),
        (4096, "float32", 341),
        (10_000, "float32", 139),
        (2, "float64", 2),
        (100, "float64", 100),
        (4096, "float64", 170),
        (10_000, "float64", 69),
    ],
)
def test_chunks_bound_memory(resolution, dtype, rows):
    assert S.chunk_rows(resolution, resolution, dtype) == rows


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(w_range=(1.0, -1.0)), "w range"),
        (dict(b_range=(0.0, 0.0)), "b range"),
        (dict(resolution=1), "resolution"),
        (dict(epochs=0), "epochs"),
        (dict(x=float("nan")), "x"),
        (dict(y=1.5), "y"),
        (dict(losses="mse,hinge"), "hinge"),
        (dict(optimizer="rmsprop"), "rmsprop"),
        (dict(learning_rate={"xent": 0.1}, losses="ce"), "xent"),
        (dict(learning_rate=-0.1), "learning rate"),
        (dict(losses="mse,mse"), "once"),
    ],
)
def test_bad_settings_name_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        S.SweepSpec.build(**kwargs)


def test_atlas_figure_masks_censored_cells(atlas):
    from xent_jax.plots import atlas as plots

    fig = plots.atlas_figure(atlas)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 2
    for image, loss in zip(images, ("mse", "ce"), strict=True):
        epochs = atlas.metrics[loss].takeoff_epoch
        np.testing.assert_array_equal(np.ma.getmaskarray(image.get_array()), epochs < 0)
        eta = atlas.config["learning_rates"][loss]  # coloured in flow time τ = η × (epoch + 1)
        np.testing.assert_allclose(image.get_array()[epochs >= 0], eta * (epochs[epochs >= 0] + 1))


def test_quadratic_takeoff_matches_gradient_flow_closed_form():
    """Saturated start, x = 1, y = 0: z = w + b obeys dz/dt = −2η·a²(1 − a) in gradient flow,
    and ‖g‖ ∝ a²(1 − a) peaks at a = 2/3, z = ln 2. With 1/(a²(1 − a)) = e^z (1 + e^−z)³,
    the time to the peak is [F(z0) − F(ln 2)] / (2η), F(z) = e^z + 3z − 3e^−z − ½e^−2z:
    the plateau grows like e^z0 / (2η). SGD at η = 0.15 follows it to within 2 epochs.
    """
    z0 = np.linspace(1.0, 5.0, 9)
    eta = 0.15
    m = S.run_configs("mse", 0.0, z0, learning_rate=eta, epochs=1000)

    def f(z):
        return np.exp(z) + 3 * z - 3 * np.exp(-z) - 0.5 * np.exp(-2 * z)

    flow = (f(z0) - f(np.log(2))) / (2 * eta)
    assert np.all(np.abs(m.takeoff_epoch - flow) <= 2), (m.takeoff_epoch, flow)


def test_cross_entropy_never_has_a_plateau(atlas):
    """y = 0: each SGD step lowers z, so |g| = a − y = σ(z) shrinks from the first epoch on."""
    np.testing.assert_array_equal(atlas.metrics["ce"].takeoff_epoch, 0)


SIXTEEN = ",".join(f"{x:g}:{y:g}" for x, y in zip(np.linspace(-3, 3, 16), [0, 1] * 8, strict=True))


FIVE = "1:0,-1:1,0.5:1,2:0,-0.3:0"  # odd: the sample sums go in halves of 3 and 2


TWENTY = ",".join(f"{x:g}:{i % 2}" for i, x in enumerate(np.linspace(-2, 2, 20)))  # 16 + 4


@pytest.mark.slow
@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        ("1:0,-1:1,0.5:1,2:0", "float32"),
        (FIVE, "float32"),
        (SIXTEEN, "float32"),
        (TWENTY, "float32"),
        (TWENTY, "float64"),  # groups of 8 samples in float64: 8 + 8 + 4
    ],
    ids=["N4", "N5", "N16", "N20", "N20-float64"],
)
def test_data_set_sweep_equals_train_exactly(data, dtype):
    """SGD on N samples: the sweep's compiled block and train()'s single run give the same bits
    (the sample sums are added in the same fixed order in both, directions._means).
    (256, 172, 68) is a start of the 16-sample set where a separate start program once made
    the sweep's takeoff 0 against train's 1."""
    result = S.sweep("mse", resolution=256, epochs=300, learning_rate=0.15, data=data, dtype=dtype)
    m = result.metrics["mse"]
    for j, i in [(68, 172), (0, 0), (128, 40), (255, 255), (17, 230)]:
        run = train(
            "mse",
            float(result.w0[i]),
            float(result.b0[j]),
            learning_rate=0.15,
            epochs=300,
            data=data,
            dtype=dtype,
        )
        assert m.takeoff_epoch[j, i] == _epoch(run.takeoff_epoch)
        assert m.half_error_epoch[j, i] == _epoch(run.half_error_epoch)
        assert m.final_loss[j, i] == np.dtype(dtype).type(run.final_loss)
