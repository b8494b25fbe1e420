"""The command line: train, gradients, demo; bad input gives status 2 and one line."""

import json
import math
import subprocess
import sys

import pytest

from xent_jax.cli import main


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def test_train_json_has_the_promised_fields(capsys):
    assert (
        main(
            [
                "train",
                "--loss",
                "mse",
                "--w0",
                "2",
                "--b0",
                "2",
                "--learning-rate",
                "0.15",
                "--epochs",
                "300",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["initial_output"] == pytest.approx(sigmoid(4.0), rel=1e-6)
    assert out["takeoff_epoch"] > 150
    for key in ("final_output", "final_loss", "half_error_epoch"):
        assert key in out
    assert out["final_loss"] == pytest.approx(0.5 * out["final_output"] ** 2, rel=1e-5)


def test_train_json_reports_null_when_censored(capsys):
    assert (
        main(
            [
                "train",
                "--loss",
                "ce",
                "--w0",
                "2",
                "--b0",
                "2",
                "--learning-rate",
                "0.005",
                "--epochs",
                "30",
                "--json",
                "--dtype",
                "float64",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["half_error_epoch"] is None
    assert out["dtype"] == "float64"


def test_train_text_output(capsys):
    assert (
        main(
            [
                "train",
                "--loss",
                "ce",
                "--w0",
                "0.6",
                "--b0",
                "0.9",
                "--learning-rate",
                "0.005",
                "--epochs",
                "10",
                "--rule",
                "book",
                "--y",
                "0",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "cross-entropy, rule book" in text
    assert "half-error epoch  never (censored)" in text


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--loss", "hinge"], "argument --loss: invalid choice: 'hinge'"),
        (["--epochs", "0"], "epochs must be at least 1, got 0"),
        (["--learning-rate", "nan"], "learning rate must be finite, got nan"),
        (["--learning-rate", "0"], "learning rate must be positive, got 0.0"),
        (["--w0", "inf"], "w0 must be finite, got inf"),
        (["--b0", "-inf"], "b0 must be finite, got -inf"),
        (["--x", "nan"], "x must be finite, got nan"),
        (["--y", "2"], "y must lie in [0, 1], got 2.0"),
        (["--epochs", "ten"], "invalid int value: 'ten'"),
        (["--rule", "magic"], "argument --rule: invalid choice: 'magic'"),
        (["--optimizer", "sgdd"], "argument --optimizer: invalid choice: 'sgdd'"),
    ],
)
def test_train_bad_input_exits_2_with_one_line(argv, needle, capsys):
    base = {"--loss": "ce", "--w0": "1", "--b0": "1", "--learning-rate": "0.1", "--epochs": "5"}
    base.update(dict(zip(argv[::2], argv[1::2], strict=True)))
    assert main(["train", *[f"{k}={v}" for k, v in base.items()]]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert needle in lines[0]


def test_train_on_a_data_set(capsys, tmp_path):
    argv = ["train", "--loss", "ce", "--w0", "1", "--b0", "-1", "--learning-rate", "0.5"]
    assert main([*argv, "--epochs", "40", "--data", "1:0,-1:1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["samples"] == 2 and out["data"] == [[1.0, 0.0], [-1.0, 1.0]]
    a0 = [sigmoid(0.0), sigmoid(-2.0)]  # z_i = w0·x_i + b0
    assert out["initial_output"] == pytest.approx(a0, rel=1e-6)
    assert out["initial_error"] == pytest.approx((a0[0] + 1 - a0[1]) / 2, rel=1e-6)
    csv = tmp_path / "d.csv"
    csv.write_text("x,y\n1,0\n-1,1\n")
    assert main([*argv, "--epochs", "40", "--data", str(csv), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["final_w"] == out["final_w"]
    assert main([*argv, "--epochs", "40", "--data", "pull"]) == 0
    assert "2 samples 1:0,-1:1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["train", "--epochs", str(2**31 - 1)], "epochs must be at most 2147483646"),
        (["train", "--learning-rate", "1e39"], "learning rate 1e+39 is not finite in float32"),
        (["train", "--data", "1:0,x:1"], "data: sample 2, 'x:1', is not x:y with numbers"),
        (["train", "--data", "1:0", "--x", "2"], "either data or the one-sample shorthand"),
        (["gradients", "--steps", "100000000"], "--steps must lie in [2, 100000]"),
    ],
)
def test_unbounded_or_bad_work_is_refused_up_front(argv, needle, capsys):
    base = ["--loss", "ce", "--w0", "1", "--b0", "1", "--learning-rate", "0.1", "--epochs", "5"]
    full = [argv[0], *base, *argv[1:]] if argv[0] == "train" else argv
    assert main(full) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]


@pytest.mark.slow
def test_gradients_table(capsys):
    assert main(["gradients", "--json", "--z-min", "-8", "--z-max", "8", "--steps", "5"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["z"] for r in rows] == [-8, -4, 0, 4, 8]
    for r in rows:
        a = sigmoid(r["z"])
        assert r["ratio"] == pytest.approx(a * (1 - a), rel=1e-9)
    assert main(["gradients"]) == 0
    assert "σ′(z)" in capsys.readouterr().out


@pytest.mark.slow
def test_demo_writes_figures_and_summary(tmp_path, capsys):
    out = tmp_path / "nested" / "out"
    assert main(["demo", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["seed_runs"]) == 8
    for name in summary["figures"]:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = capsys.readouterr().out
    assert "book's rule against the true gradient" in text
    assert "η-free comparison" in text and "genuinely 2-D atlas" in text
    # the η-free headline from (2, 2): the closed-form flow times, not a value of the demo's
    (row,) = [r for r in summary["flow_time_comparison"] if r["start"] == [2.0, 2.0]]
    assert row["ratio"][0] == pytest.approx(13.72, abs=0.01)
    assert summary["data_atlas"]["samples"] == 4
    assert summary["ce_at_mse_learning_rate"]["learning_rate"] == 0.15


def test_demo_output_directory_that_cannot_be_created(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("keep me")
    assert main(["demo", "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot create output directory" in err[0]
    assert blocker.read_text() == "keep me"


@pytest.mark.slow
def test_module_entry_point_and_unknown_command():
    done = subprocess.run(
        [sys.executable, "-m", "xent_jax", "nonsense"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_gradients_over_the_whole_float64_range_stay_finite(capsys):
    # The grid's step, (1e308 − (−1e308))/2, overflows; the z values themselves must not.
    assert main(["gradients", "--json", "--z-min=-1e308", "--z-max=1e308", "--steps", "3"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["z"] for r in rows] == [-1e308, 0.0, 1e308]
    assert rows[2]["dC_db_cross_entropy"] == 1.0 and rows[2]["dC_db_quadratic"] == 0.0
