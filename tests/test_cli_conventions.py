"""The command line's one convention, checked on every command (issue 20, items 4–6 and 8).

- ``--help``, ``--version`` and a typo import no JAX (how fast they answer is a benchmark:
  ``benchmarks/bench_cli.py``);
- every option that takes a number or a data set accepts a value with a leading minus;
- every option has a help text that shows its default, and that default is the one the
  settings type defines;
- a command whose optional extra is missing exits 2 with one line naming the extra, creating
  nothing.
"""

import argparse
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from xent_jax.cli import _extras, _help, build_parser, main
from xent_jax.core._registry import Optimizer
from xent_jax.core._settings import RunSettings
from xent_jax.softmax._settings import BugsSettings
from xent_jax.studies import _settings as study_settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(commands.choices)


COMMANDS = _commands()
OPTIONS = [
    (name, action)
    for name, sub in COMMANDS.items()
    for action in sub._actions
    if action.option_strings and action.dest != "help"
]


def _id(case) -> str:
    return f"{case[0]} {case[1].option_strings[0]}"


# --- item 4: no JAX before a command runs -------------------------------------------------------

HEAVY = ("jax", "jaxlib", "matplotlib", "optax", "zarr", "xarray")


@pytest.mark.slow
def test_help_version_and_typos_import_no_jax():
    """One fresh interpreter answers every help, the version and a typo through ``main``, then
    the module entry point; none of them may have imported JAX or any other heavy library."""
    argvs = [["--help"], ["--version"], ["trian"], *([name, "--help"] for name in COMMANDS)]
    code = textwrap.dedent(
        f"""
        import contextlib, io, runpy, sys
        from xent_jax.cli import main
        for argv in {argvs!r}:
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    status = main(argv)
                except SystemExit as stop:
                    status = stop.code
            assert status in (0, 2), (argv, status)
        sys.argv = ["xent-jax", "--help"]
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                runpy.run_module("xent_jax", run_name="__main__")
            except SystemExit:
                pass
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
        print(",".join(heavy))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


# --- item 5: a leading minus on every option that takes a number or a data set ----------------


def _negative_value(action: argparse.Action) -> list[str] | None:
    """A value with a leading minus for an option that takes a number or samples, else None."""
    if action.dest == "data":
        return ["-2:0,-1:0,1:1,2:1"]  # the built-in `separable`, written out
    if action.dest == "learning_rate" and isinstance(action, argparse._AppendAction):
        return ["-1e-3"]
    if action.type not in (int, float):
        return None
    one = "-3" if action.type is int else "-1e-3"
    if action.nargs == 2:
        return [one, "3"]
    return [one]


NUMERIC = [case for case in OPTIONS if _negative_value(case[1]) is not None]


def test_every_numeric_option_is_covered():
    covered = {_id(case) for case in NUMERIC}
    for must in ("train --w0", "train --data", "sweep --w-range", "gradients --z-min"):
        assert must in covered
    assert {name for name, _ in NUMERIC} >= set(COMMANDS) - {"derive", "numerics", "demo"}


@pytest.mark.parametrize("case", NUMERIC, ids=_id)
def test_every_numeric_option_takes_a_leading_minus(case):
    name, action = case
    values = _negative_value(action)
    required = ["--out", "o"] if name == "sweep" and action.dest != "out" else []
    args = build_parser().parse_args([name, action.option_strings[0], *values, *required])
    parsed = getattr(args, action.dest)
    if action.dest == "data":
        assert parsed == values[0]
    elif isinstance(action, argparse._AppendAction):
        assert parsed == values
    else:
        as_list = parsed if isinstance(parsed, list) else [parsed]
        assert as_list == [action.type(v) for v in values]


@pytest.mark.parametrize("text", ["-1e-3", "-.5", "-1", "-1.5", "-1E+2", "-inf", "-nan"])
def test_minus_forms_are_values_not_options(text):
    args = build_parser().parse_args(["train", "--w0", text])
    assert repr(args.w0) == repr(float(text))


def test_a_written_out_data_set_trains_as_its_name(capsys):
    argv = ["train", "--loss", "ce", "--epochs", "20", "--json"]
    assert main([*argv, "--data", "-2:0,-1:0,1:1,2:1", "--w0", "-1e-3"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert main([*argv, "--data", "separable", "--w0=-0.001"]) == 0
    named = json.loads(capsys.readouterr().out)
    assert written == named
    assert written["w0"] == -0.001 and written["data"][0] == [-2.0, 0.0]


# --- item 6: help for every option, every default shown, from where it is defined ------------


def _help_text(action: argparse.Action) -> str:
    formatter = _help.Formatter("xent-jax")
    return formatter._expand_help(action)


@pytest.mark.parametrize("case", OPTIONS, ids=_id)
def test_every_option_has_help_showing_its_default(case):
    _, action = case
    text = _help_text(action)
    assert len(text) > 10, text
    flag = isinstance(action, argparse._StoreTrueAction)
    if not (flag or action.required):
        assert "default" in text, text
    if action.default not in (None, False, []) and action.default != argparse.SUPPRESS:
        assert f"default {_help.render(action.default)}" in text, text


def _default(command: str, dest: str):
    (action,) = [a for a in COMMANDS[command]._actions if a.dest == dest]
    return action.default


def _field(settings, name):
    """The field's default; a record (RunSettings' optimizer) by the name the option takes."""
    value = _help.field_default(settings, name)
    return value.name if isinstance(value, Optimizer) else value


@pytest.mark.parametrize(
    ("command", "dest", "settings", "field"),
    [
        *(
            (c, f, RunSettings, f)
            for c in ("train", "sweep")
            for f in ("epochs", "rule", "optimizer", "dtype")
        ),
        ("bugs", "epochs", BugsSettings, "epochs"),
        ("bugs", "learning_rate", BugsSettings, "learning_rate"),
        ("bugs", "seed", BugsSettings, "seed"),
        ("learning-rate", "w0", study_settings.LearningRateSettings, "w0"),
        ("learning-rate", "flow_time", study_settings.LearningRateSettings, "flow_time"),
        ("network", "seed", study_settings.NetworkSettings, "seed"),
        ("calibration", "epochs", study_settings.CalibrationSettings, "epochs"),
        ("calibration", "seed", study_settings.CalibrationSettings, "seed"),
        ("linear-plateau", "strength", study_settings.PlateauSettings, "strength"),
        ("linear-plateau", "learning_rate", study_settings.PlateauSettings, "learning_rate"),
        ("label-noise", "seeds", study_settings.LabelNoiseSettings, "seeds"),
        ("label-noise", "seed", study_settings.LabelNoiseSettings, "first_seed"),
        ("label-noise", "epochs", study_settings.LabelNoiseSettings, "epochs"),
        ("collapse", "epochs", study_settings.CollapseSettings, "epochs"),
    ],
)
def test_the_defaults_are_the_settings_types(command, dest, settings, field):
    assert _default(command, dest) == _field(settings, field)


def test_network_epochs_help_names_both_defaults():
    (action,) = [a for a in COMMANDS["network"]._actions if a.dest == "epochs"]
    four = study_settings.NetworkSettings.epochs
    many = study_settings.SeedSettings.epochs
    assert f"default {four}; {many} with --seeds" in _help_text(action)


def test_learning_rate_takes_several_values_under_the_common_name():
    args = build_parser().parse_args(["learning-rate", "--learning-rate", "0.5", "0.25"])
    assert args.learning_rate == [0.5, 0.25]
    for name in COMMANDS:
        assert "--learning-rates" not in COMMANDS[name]._option_string_actions


def test_every_command_that_writes_files_takes_out_with_one_default():
    writers = [n for n, sub in COMMANDS.items() if "--out" in sub._option_string_actions]
    assert set(writers) >= {"demo", "bugs", "learning-rate", "network", "collapse", "sweep"}
    for name in writers:
        if name != "sweep":  # the sweep's directory is its resumable state: named every time
            assert _default(name, "out") == _help.DEFAULT_OUT
    for name, sub in COMMANDS.items():
        if name != "explore":  # a web server: it reports nothing to print as JSON
            assert "--json" in sub._option_string_actions, name


@pytest.mark.slow
def test_bugs_writes_its_figure_to_the_default_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["bugs", "--epochs", "2", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert json.loads((tmp_path / "xent-out" / "bugs.json").read_text()) == summary
    assert (tmp_path / "xent-out" / "bugs.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "argv", [["network"], ["calibration"], ["label-noise"]], ids=lambda a: a[0]
)
def test_one_seed_is_refused_where_intervals_are_reported(argv, tmp_path, capsys):
    out = tmp_path / "o"
    assert main([*argv, "--seeds", "1", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert "--seeds must be at least 2 (a 95 % interval needs two), got 1" in captured.err
    assert not out.exists()


@pytest.mark.parametrize(
    ("optimizer", "hyperparameters"),
    [
        ("sgd", {}),
        ("momentum", {"momentum": 0.9}),
        ("adam", {"b1": 0.9, "b2": 0.999, "eps": 1e-8}),
    ],
)
def test_optimizer_hyperparameters_in_help_and_json(optimizer, hyperparameters, capsys):
    (action,) = [a for a in COMMANDS["train"]._actions if a.dest == "optimizer"]
    text = _help_text(action)
    for name, value in hyperparameters.items():
        assert f"{name} {value:g}" in text
    argv = ["train", "--optimizer", optimizer, "--epochs", "3", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["optimizer"] == optimizer
    assert out["optimizer_hyperparameters"] == hyperparameters


# --- item 8: optional extras -----------------------------------------------------------------


def _without(module: str, argv: list[str]) -> subprocess.CompletedProcess:
    """``main(argv)`` in a fresh interpreter where importing ``module`` fails."""
    code = (
        f"import sys; sys.modules[{module!r}] = None; from xent_jax.cli import main; "
        f"sys.exit(main({argv!r}))"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "command", "extra"),
    [
        ("sympy", "derive", "symbolic"),
        ("sklearn", "network", "network"),
        ("sklearn", "calibration", "network"),
        ("sklearn", "label-noise", "network"),
        ("scipy", "network", "network"),
    ],
)
def test_a_missing_extra_is_one_line_naming_it_and_creates_nothing(
    module, command, extra, tmp_path
):
    out = tmp_path / "o"
    argv = [command] + ([] if command == "derive" else ["--out", str(out)])
    done = _without(module, argv)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f'pip install "xent-jax[{extra}]"' in done.stderr
    assert done.stderr.startswith(f"xent-jax: error: {command} needs ")
    assert not out.exists()


def test_the_readme_table_names_each_commands_extra():
    rows = {
        line.split("`")[1].split()[0]: line
        for line in README.splitlines()
        if line.startswith("| `") and line.count("|") >= 3
    }
    assert set(rows) >= set(COMMANDS)
    for command in COMMANDS:
        if command not in rows:
            continue
        extra = _extras.NEEDS.get(command)
        if extra is None:
            assert "xent-jax[" not in rows[command], command
        else:
            assert f"xent-jax[{extra}]" in rows[command], command


def test_the_extras_are_the_projects():
    import tomllib

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    for extra, modules in _extras.EXTRAS.items():
        declared = " ".join(extras[extra]).lower()
        for _, distribution in modules:
            assert distribution.lower() in declared, (extra, distribution)
