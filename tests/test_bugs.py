"""The silent bugs: floors from the closed form, and the warning on the double softmax."""

import json
import math

import numpy as np
import pytest

from xent_jax.cli import main
from xent_jax.softmax import _bugs as bugs


@pytest.fixture(scope="module")
def result():
    return bugs.train_three_ways(epochs=150)


def test_loss_floor_closed_form():
    # −log softmax(u)_y over u in [0, 1]^C is smallest at u = onehot(y): 1 − log(e + C − 1)
    for c in (2, 3, 10):
        u = np.zeros(c)
        u[0] = 1.0
        assert bugs.loss_floor(c) == pytest.approx(np.log(np.exp(u).sum()) - u[0], rel=1e-12)
    assert bugs.loss_floor(3) == pytest.approx(0.5514447, rel=1e-6)


@pytest.mark.slow
def test_bugs_stall_above_the_floor_while_the_correct_run_does_not(result):
    floor = result["loss_floor"]
    runs = result["runs"]
    assert runs["correct"]["final_loss"] < 0.1
    for mode in ("double_softmax", "probabilities_as_logits"):
        assert np.all(runs[mode]["history"].loss > floor)  # can never go below
        # and the bugs' gradients start several times smaller
        assert runs[mode]["initial_grad_norm"] < 0.5 * runs["correct"]["initial_grad_norm"]
    # silent: accuracy does not give the bugs away on this easy set
    for run in runs.values():
        assert run["accuracy"] > 0.95


@pytest.mark.slow
def test_the_warning_catches_the_double_softmax_only(result):
    runs = result["runs"]
    assert runs["double_softmax"]["warned"]
    assert not runs["correct"]["warned"]
    assert not runs["probabilities_as_logits"]["warned"]  # sigmoid rows do not sum to 1


@pytest.mark.slow
def test_cli_bugs_writes_figure_and_json(tmp_path, capsys):
    # the fixture's settings, so the compiled training loops are reused
    assert main(["bugs", "--epochs", "150", "--out", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["loss_floor"] == pytest.approx(math.log1p(2 / math.e))
    assert set(summary["runs"]) == set(bugs.MODES)
    assert (tmp_path / "bugs.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "bugs.json").read_text()) == summary


@pytest.mark.slow
def test_cli_numerics_json_is_strict(capsys):
    assert main(["numerics", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out, parse_constant=pytest.fail)
    wrong = next(r for r in rows if r["case"] == "wrong" and r["gap"] == 1e4)
    assert wrong["fused"] == 1e4 and wrong["naive"] == "inf" and wrong["naive_grad"] == "nan"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["bugs", "--epochs", "0"], "epochs must be at least 1"),
        (["bugs", "--learning-rate", "-1"], "learning rate must be positive"),
        (["bugs", "--epochs", "x"], "invalid int value"),
    ],
)
def test_cli_bad_input_is_one_line_and_status_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_cli_unwritable_out_fails_before_training(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("keep")
    assert main(["bugs", "--out", str(blocker / "sub")]) == 2
    assert "cannot create output directory" in capsys.readouterr().err
    assert blocker.read_text() == "keep"


@pytest.mark.parametrize(
    "seed, message",
    [
        ("-1", "seed must be at least 0"),
        ("99999999999999999999", "seed must be at most 4294967295"),
    ],
)
def test_cli_bad_seed_creates_nothing(seed, message, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["bugs", "--seed", seed, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()


def test_cli_recorded_epochs_are_bounded(capsys):
    assert main(["bugs", "--epochs", "100000000"]) == 2
    assert "epochs must be at most" in capsys.readouterr().err
