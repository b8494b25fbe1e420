"""The explorer's numbers, without a browser: its state and URL, its runs against ``train`` (and
the independent NumPy loop), its atlas against the sweep, bad input, no recompilation for
continuous controls, and superseded changes dropped."""

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import oracles
from xent_jax import explore, sweep, train
from xent_jax.core import _training as training
from xent_jax.errors import InputError
from xent_jax.explore import _compute as compute
from xent_jax.report.explore import format_reading

pn = pytest.importorskip("panel")

from xent_jax.explore import _app as app  # noqa: E402  (needs Panel)

STATE = explore.ExplorerState
DOC = Path(__file__).resolve().parents[1] / "docs" / "explore.md"


def _same_run(mine, theirs):
    assert mine.summary() == theirs.summary()
    for a, b in zip(mine.trajectory, theirs.trajectory, strict=True):
        np.testing.assert_array_equal(a, b)


# --- the state and its URL -----------------------------------------------------------------


def test_defaults_are_the_seed():
    s = STATE()
    assert (s.w0, s.b0, s.epochs, s.rule, s.optimizer, s.data) == (
        2.0,
        2.0,
        300,
        "autodiff",
        "sgd",
        "seed",
    )
    assert s.rates() == {"mse": 0.15, "ce": 0.005}
    assert s.replace(one_rate=True).rates() == {"mse": 0.15, "ce": 0.15}


def test_url_round_trip_keeps_every_field():
    s = STATE(
        w0=-1.25,
        b0=0.5,
        one_rate=True,
        flow_time=True,
        epochs=450,
        rule="book",
        optimizer="momentum",
        data="1:0,-1:1",
        metric="takeoff",
        resolution=64,
    )
    s = s.replace(learning_rate_mse=0.3, learning_rate_ce=0.05).check()
    query = s.to_query()
    assert "data=1:0,-1:1" in query and "eta_ce=0.05" in query and "tau=1" in query
    assert STATE.from_query("?" + query) == s
    assert STATE.from_query({"w0": [b"-1.25"]}).w0 == -1.25  # the server's session arguments


def test_url_keeps_float32_values_exact():
    # w0 as float32 holds it, written as the shortest text float32 reads back identically
    s = STATE(w0=0.9299999999999997).check()
    assert s.w0 == float(np.float32(0.93)) and "w0=0.93&" in s.to_query()
    assert STATE.from_query(s.to_query()).w0 == s.w0


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("w0=abc", "w0 must be a number, got 'abc'"),
        ("b0=inf", "b0 must be finite, got 'inf'"),
        ("epochs=2.5", "epochs must be an integer, got '2.5'"),
        ("tau=maybe", "tau must be 0 or 1, got 'maybe'"),
        ("rule=sideways", "unknown rule 'sideways': expected one of autodiff, book"),
        ("eta_ce=-1", "learning rate for ce must be positive, got -1.0"),
        ("resolution=100", "resolution must be one of 64, 128, 256, got 100"),
    ],
)
def test_a_bad_url_names_the_value(query, message):
    with pytest.raises(InputError) as error:
        STATE.from_query(query)
    assert str(error.value) == message


def test_data_is_never_read_from_a_path(tmp_path):
    # a page, perhaps opened to the network, must not read the server's files
    secret = tmp_path / "secret.csv"
    secret.write_text("x,y\n1,0\n")
    for query in (f"data={secret}", "data=/etc/passwd"):
        with pytest.raises(InputError, match="data must be x:y,x:y,… or one of seed") as error:
            STATE.from_query(query)
        assert "1,0" not in str(error.value)


def test_unknown_url_keys_are_ignored_and_missing_ones_default():
    assert STATE.from_query("utm_source=slides&w0=1") == STATE(w0=1.0).check()


def test_work_too_large_for_a_live_view_is_refused_up_front():
    with pytest.raises(InputError, match="epochs must be at most 10000"):
        STATE(epochs=10_001).settings()
    samples = ",".join(f"{k / 10:g}:{k % 2}" for k in range(64))  # 64 samples
    with pytest.raises(InputError, match="more than the explorer's"):
        STATE(epochs=5000, data=samples, resolution=256).settings()


# --- the numbers ---------------------------------------------------------------------------


def test_epoch_buckets_cost_at_most_a_quarter_more_and_few_compilations():
    epochs = np.arange(1, 20_001)
    buckets = np.array([compute.epoch_bucket(int(e)) for e in epochs])
    assert np.all(buckets >= epochs) and np.all(buckets <= 1.25 * epochs)
    assert np.all(np.diff(buckets) >= 0)
    assert len(set(buckets[299:600])) <= 5  # a drag from 300 to 600 epochs: 5 programs


@pytest.mark.slow
@pytest.mark.parametrize("epochs", [1, 7, 9, 250, 300, 333])
def test_runs_are_trains_for_every_epoch_count(epochs):
    # run for the bucket's epochs and cut back: the same bits as train() for exactly E
    s = STATE(w0=1.5, b0=-0.5, epochs=epochs).replace(learning_rate_ce=0.4)
    runs = compute.runs(s)
    for loss, run in runs.items():
        _same_run(run, train(loss, 1.5, -0.5, learning_rate=s.rates()[loss], epochs=epochs))


def _numpy_epochs(loss, eta):
    """(takeoff, half-error) epochs of the independent float64 loop from (2, 2), 300 epochs,
    None where never."""
    descent = oracles.descend(loss, 2.0, 2.0, 1.0, 0.0, eta, 300)
    return tuple(
        None if int(e) < 0 else int(e)
        for e in (descent.takeoff_epoch(), descent.half_error_epoch())
    )


def test_runs_are_the_independent_numpy_loop():
    runs = compute.runs(STATE())
    for loss, eta in (("mse", 0.15), ("ce", 0.005)):
        expected = _numpy_epochs(loss, eta)
        assert (runs[loss].takeoff_epoch, runs[loss].half_error_epoch) == expected


@pytest.mark.slow
@pytest.mark.parametrize(
    "changes",
    [{"epochs": 250}, {"data": "pull", "epochs": 200, "one_rate": True}, {"rule": "book"}],
    ids=["seed-250", "pull", "book"],
)
def test_the_atlas_is_the_sweep(changes):
    s = STATE(resolution=64, **changes).check()
    atlas = compute.atlas(s)
    reference = sweep.sweep(
        resolution=64, epochs=s.epochs, learning_rate=s.rates(), data=s.data, rule=s.rule
    )
    for loss, m in reference.metrics.items():
        np.testing.assert_array_equal(atlas.half_error_epoch[loss], m.half_error_epoch)
        np.testing.assert_array_equal(atlas.takeoff_epoch[loss], m.takeoff_epoch)
        reached = np.mean(m.half_error_epoch >= 0)  # censored starts counted, not dropped
        assert atlas.reached("half_error")[loss] == reached


def test_continuous_controls_do_not_recompile():
    s = STATE(resolution=64)
    compute.runs(s), compute.atlas(s)
    sizes = (training._advance_jit._cache_size(), compute._runner.cache_info().misses)
    for k in range(5):  # new w0, b0, η, data values and epochs within one bucket
        changed = s.replace(w0=0.1 * k, b0=-0.2 * k, epochs=300 + k, data=f"{k}:1")
        changed = changed.replace(learning_rate_mse=0.1 + k / 50)
        compute.runs(changed), compute.atlas(changed)
    assert (training._advance_jit._cache_size(), compute._runner.cache_info().misses) == sizes


# --- the explorer object -------------------------------------------------------------------


@pytest.fixture(scope="module")
def view():
    return app.Explorer(resolution=64)


def test_a_click_runs_that_start_of_the_atlas(view):
    view.click(-1.03, 0.51)
    w0, b0 = view.state.w0, view.state.b0
    w_axis, b_axis = view.atlas.spec.axes()
    assert w0 in w_axis.tolist() and b0 in b_axis.tolist()  # snapped to the grid
    assert abs(w0 + 1.03) <= 4 / 63 and abs(b0 - 0.51) <= 4 / 63
    for loss, run in view.runs.items():
        _same_run(run, train(loss, w0, b0, learning_rate=view.state.rates()[loss]))
        # the map's cell there is that run's: the sweep and train agree
        assert view.atlas.at("half_error", loss, w0, b0) == run.half_error_epoch
        assert view.atlas.at("takeoff", loss, w0, b0) == run.takeoff_epoch
    page = view.numbers.object
    shown = page.split('data-field="w0">')[1].split("<")[0]  # read back exactly
    assert float(np.float32(float(shown))) == w0 and len(shown) <= 11
    half = view.runs["mse"].half_error_epoch
    assert f'data-loss="mse" data-field="half_error_epoch">{half}<' in page


@pytest.mark.slow
def test_controls_change_the_runs_as_train_would(view):
    assert view.set(w0=0.75, b0=-2.5, learning_rate_mse=0.6, epochs=420) == {}
    for loss, run in view.runs.items():
        eta = view.state.rates()[loss]
        _same_run(run, train(loss, 0.75, -2.5, learning_rate=eta, epochs=420))
    assert view.atlas.spec.epochs == 420 and view.atlas.spec.learning_rates["mse"] == 0.6


def _cli_error(capsys, tmp_path, argv):
    from xent_jax.cli import main

    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    return capsys.readouterr().err.strip().removeprefix("xent-jax: error: ")


@pytest.mark.parametrize(
    ("control", "value", "argv"),
    [
        ("learning_rate_ce", 0.0, ["sweep", "--learning-rate", "ce=0"]),
        ("learning_rate_mse", -0.5, ["sweep", "--learning-rate", "mse=-0.5"]),
        ("learning_rate_ce", math.inf, ["sweep", "--learning-rate", "ce=inf"]),
        ("epochs", 0, ["sweep", "--epochs", "0"]),
        ("data", "1:0,abc", ["sweep", "--data", "1:0,abc"]),
        ("data", "1:2", ["sweep", "--data", "1:2"]),
    ],
)
def test_bad_input_shows_the_command_lines_line_and_keeps_the_view(
    view, control, value, argv, capsys, tmp_path
):
    before = (view.state, view.runs, view.atlas, view.updates, view.reading.object)
    messages = view.set(**{control: value})
    shown = "pairs" if control == "data" else control
    assert messages == {shown: _cli_error(capsys, tmp_path, argv)}
    assert (view.state, view.runs, view.atlas, view.updates, view.reading.object) == before
    view.set(**{control: {"data": "seed", "epochs": 300}.get(control, 0.15)})  # a good value
    assert view.messages[shown] == ""


def test_superseded_changes_are_dropped(view, monkeypatch):
    """Served, changes only ask for work; 20 changes before the event loop's next turn cost one
    update, of the newest state."""
    scheduled = []
    monkeypatch.setattr(app, "_served", lambda: True)
    monkeypatch.setattr(pn.state, "execute", lambda callback, schedule: scheduled.append(callback))
    updates = view.updates
    for k in range(20):
        view.set(w0=-2 + 0.1 * k)
    assert len(scheduled) == 1 and view.updates == updates
    scheduled.pop()()
    assert view.updates == updates + 1 and not scheduled
    w0 = view.state.w0
    assert w0 == float(np.float32(-2 + 0.1 * 19))
    _same_run(view.runs["ce"], train("ce", w0, view.state.b0, learning_rate=0.15, epochs=300))


@pytest.mark.slow
def test_a_new_compilation_is_announced_first(view, monkeypatch):
    scheduled = []
    monkeypatch.setattr(app, "_served", lambda: True)
    monkeypatch.setattr(pn.state, "execute", lambda callback, schedule: scheduled.append(callback))
    view.set(epochs=1500)  # a bucket not compiled yet
    scheduled.pop()()
    assert "compiling" in view.reading.object and len(scheduled) == 1
    scheduled.pop()()
    assert "compiling" not in view.reading.object and view.runs["mse"].settings.epochs == 1500


# --- the reading ---------------------------------------------------------------------------


def _summary(loss, eta, takeoff, half, epochs=300):
    return {
        "loss": loss,
        "learning_rate": eta,
        "epochs": epochs,
        "takeoff_epoch": takeoff,
        "half_error_epoch": half,
    }


def test_the_reading_line():
    summaries = {"mse": _summary("mse", 0.15, 215, 233), "ce": _summary("ce", 0.5, 0, 10)}
    line = format_reading(summaries, flow_time=True, reached={"mse": 0.59, "ce": 1.0})
    # τ = η × epochs: 0.15 × 233 = 34.95 and 0.5 × 10 = 5; 34.95 / 5 = 6.99
    assert line == (
        "quadratic (MSE): plateau until τ = 32.25 (epoch 215), halves its error at τ = 34.95 "
        "(epoch 233); cross-entropy: takes off at once, halves its error at τ = 5 (epoch 10); "
        "quadratic (MSE) needs 6.99× the flow time of cross-entropy; atlas: error halved "
        "within 300 epochs from quadratic (MSE) 59%, cross-entropy 100% of starts"
    )
    censored = {"ce": _summary("ce", 0.005, None, None)}
    assert format_reading(censored) == (
        "cross-entropy: still accelerating after 300 epochs, error not halved within 300 epochs"
    )


@pytest.mark.slow
def test_the_documented_reading_is_the_explorers():
    s = STATE.from_query("w0=2&b0=2&one_eta=1&tau=1")  # the screenshot's settings
    runs, atlas = compute.runs(s), compute.atlas(s)
    summaries = {loss: run.summary() for loss, run in runs.items()}
    line = format_reading(summaries, True, atlas.reached("half_error"))
    quoted = re.sub(r"\s*\n\s*>\s*", " ", DOC.read_text())
    assert line in " ".join(quoted.split())
    for loss, run in runs.items():  # its epochs, from the independent loop
        assert (run.takeoff_epoch, run.half_error_epoch) == _numpy_epochs(loss, 0.15)
    # the counter-case: the cross-entropy's censored starts are the already-right corner
    w, b = np.meshgrid(*atlas.spec.axes())
    censored = atlas.half_error_epoch["ce"] == -1
    assert np.all((w + b)[censored] <= -4.5) and np.all((w + b)[~censored] > -4.5)
    assert "z0 = w0 + b0 ≤ −4.5" in quoted


@pytest.mark.slow
def test_the_state_and_numbers_import_no_ui_library():
    code = (
        "import sys, xent_jax, xent_jax.explore as e; e.ExplorerState().settings(); "
        "assert 'jax' not in sys.modules and 'panel' not in sys.modules; "
        "e.atlas; assert 'panel' not in sys.modules and 'bokeh' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
