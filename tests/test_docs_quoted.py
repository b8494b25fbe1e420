"""Every number the study pages quote as a command's output is that command's output.

Issue 22: "every number a page quotes next to a command is checked against that command's
output, as test_readme.py does for the README". Each page's command (or the library call it
names) runs once, in a module-scoped fixture, at the page's settings; each test then reads the
page, finds the table row or sentence that quotes the number, and checks the number is the run's
value formatted as the page writes it, so editing a number in the page fails here.

Numbers checked elsewhere are not repeated: the paired costs of the 20-seed study and the
collapse gaps' closed forms (test_documented_numbers.py), the README's numbers
(test_readme.py), the numbers in the comments of the pages' Python blocks (test_docs_site.py).
The three long runs, `xent-jax network --seeds 20`, `xent-jax calibration --seeds 10` and
`xent-jax label-noise`, are test_docs_quoted_long.py's (this file checks only the single-neuron
atlas of label-noise, and the 20-seed figures against the README's).
"""

import math
import re
from pathlib import Path

import numpy as np
import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"

pytestmark = pytest.mark.slow


def page(name: str) -> str:
    return (DOCS / f"{name}.md").read_text()


def flat(text: str) -> str:
    """The page with its line breaks folded, so a quoted sentence may wrap."""
    return " ".join(text.split())


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def table_row(text: str, *first: str) -> list[str]:
    """The cells of the one table row whose leading cells are ``first``."""
    rows = [
        cells(line)
        for line in text.splitlines()
        if line.startswith("|") and cells(line)[: len(first)] == list(first)
    ]
    assert len(rows) == 1, (first, rows)
    return rows[0]


def section(text: str, start: str, end: str) -> str:
    """The part of a page from the heading or sentence ``start`` to ``end``."""
    return text.split(start, 1)[1].split(end, 1)[0]


def e_short(value: float, digits: int = 1) -> str:
    """7.3e-4, as the pages write a small number (no zero-padded exponent)."""
    return f"{value:.{digits}e}".replace("e-0", "e-").replace("e+0", "e+")


def assert_significant(quoted: str, value: float) -> None:
    """``quoted`` is ``value`` rounded to as many significant digits as it shows."""
    digits = len(quoted.split("e")[0].replace(".", "").lstrip("0"))
    assert float(quoted) == float(f"{value:.{digits}g}"), (quoted, value)


def as_quoted(value: float, quoted: str) -> str:
    """``value`` with as many decimals as ``quoted`` has: the page chose the precision, the
    run gives the digits."""
    decimals = len(quoted.partition(".")[2])
    return f"{value:.{decimals}f}"


# --- docs/seed_comparison.md: `xent-jax demo` ---------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    from xent_jax.studies import _seed_comparison as seed_comparison

    runs = seed_comparison.seed_runs()
    matched = seed_comparison.matched_eta_run()
    return {
        "runs": runs,
        "matched": matched,
        "rules": seed_comparison.rule_difference(runs),
        "conclusions": seed_comparison.conclusions(runs, matched),
        "flow": seed_comparison.flow_time_comparison(),
    }


def _seed_row(start, loss_cell, rule_cell, run):
    epoch = run.half_error_epoch
    return (
        f"| ({start[0]:g}, {start[1]:g}) | {loss_cell} | {rule_cell} | "
        f"{run.initial_output:.3f} → {run.final_output:.3f} | {run.takeoff_epoch} | "
        f"{'censored' if epoch is None else epoch} |"
    )


def test_seed_comparison_table_is_the_demo_runs(demo):
    from xent_jax.studies._seed_comparison import find_run

    text = page("seed_comparison")
    runs, expected = demo["runs"], []
    for rule in demo["rules"]:
        assert rule["mse_rules_agree"]  # the page's "both (the same run)"
        start = {"w0": rule["w0"], "b0": rule["b0"]}
        for loss_cell, config, rule_cell in (
            ("quadratic, 0.15", {"loss": "mse", "rule": "autodiff"}, "both (the same run)"),
            ("cross-entropy, 0.005", {"loss": "ce", "rule": "book"}, "book"),
            ("cross-entropy, 0.005", {"loss": "ce", "rule": "autodiff"}, "true gradient"),
        ):
            run = find_run(runs, **config, **start)
            expected.append(_seed_row((rule["w0"], rule["b0"]), loss_cell, rule_cell, run))
    expected.append(
        _seed_row((2, 2), "cross-entropy, 0.15 (labelled case)", "true gradient", demo["matched"])
    )
    quoted = [line for line in text.splitlines() if line.startswith("| (") and "→" in line]
    assert quoted == expected


def test_seed_comparison_prose_is_the_demo_runs(demo):
    text = flat(page("seed_comparison"))
    mild, saturated = demo["rules"]
    c = demo["conclusions"]
    mse, book, true = c["mse"], c["ce_book"], c["ce_true"]
    matched = c["ce_at_mse_eta"]
    for sentence in (
        f"falls from a = {c['initial_output']:.2f} to {book['final_output']:.3f} in 300",
        f"1/(a(1 − a)) = {saturated['first_step_ratio']:.1f} at a = {c['initial_output']:.2f} "
        f"({mild['first_step_ratio']:.1f} from (0.6, 0.9))",
        f"only falls to {true['final_output']:.3f} ({mild['ce_true']['final_output']:.3f} from "
        "the milder start)",
        f"(takeoff epoch {mse['takeoff_epoch']}, half error at epoch {mse['half_error_epoch']})",
        f"halves its error at epoch {matched['half_error_epoch']}, against "
        f"{mse['half_error_epoch']}.",
    ):
        assert sentence in text, sentence


def _flow_table_is_the_closed_form(text, flow_rows):
    """The η-free table `xent-jax demo` prints, as seed_comparison.md and landscapes.md quote it;
    returns every ratio."""
    quote = re.compile(r"([\d.]+) vs ([\d.]+) \(×([\d.]+)\)")
    ratios = []
    for row in flow_rows:
        w0, b0 = row["start"]
        cell = table_row(text, f"({w0:g}, {b0:g}) ({row['z0']:g})")[1:]
        assert len(cell) == len(row["fractions"]) == 4
        for i, entry in enumerate(cell):
            mse, ce, ratio = quote.fullmatch(entry).groups()
            values = (row["flow_time"]["mse"][i], row["flow_time"]["ce"][i], row["ratio"][i])
            # three significant digits, as `xent-jax demo` prints them (3.87e+03 as 3870)
            for q, v in zip((mse, ce, ratio), values, strict=True):
                assert f"{float(q):.3g}" == f"{v:.3g}", (entry, values)
            ratios.append(row["ratio"][i])
    return ratios


def test_seed_comparison_flow_table_is_the_closed_form(demo):
    text = page("seed_comparison")
    ratios = _flow_table_is_the_closed_form(text, demo["flow"])
    prose = flat(text)
    assert f"({min(ratios):.2g} to {max(ratios):.2g} here)" in prose
    quarter, half = demo["flow"][1]["ratio"][1], demo["flow"][1]["ratio"][0]
    assert f"the factor ({quarter:.3g}) is *smaller* than for ½ ({half:.3g})" in prose


# --- docs/learning_rate.md: `xent-jax learning-rate` and the calls it names --------------------


@pytest.fixture(scope="module")
def learning_rate():
    from xent_jax.studies import _learning_rate as study

    return {
        "study": study.learning_rate_study(),
        "match": [study.learning_rate_match(0.6, 0.9), study.learning_rate_match(2.0, 2.0)],
    }


def test_learning_rate_deviation_table_is_the_study(learning_rate):
    text = page("learning_rate")
    deviation = learning_rate["study"].deviation
    for eta in (0.01, 0.1, 1.0):
        assert table_row(text, f"{eta:g}") == [
            f"{eta:g}",
            e_short(deviation["mse"][eta]),
            e_short(deviation["ce"][eta]),
        ]
    factors = [
        by_eta[big] / by_eta[small]
        for by_eta in deviation.values()
        for small, big in ((0.01, 0.1), (0.1, 1.0))
    ]
    assert f"a factor 10 in η gives a factor {min(factors):.1f}–{max(factors):.1f}" in flat(text)


def test_learning_rate_closed_forms_quoted_beside_their_calls():
    from xent_jax.studies import _flow as flow
    from xent_jax.studies import _seed_comparison as seed_comparison

    text = flat(page("learning_rate"))
    assert f"`mean_sigmoid_prime(1000)` = {flow.mean_sigmoid_prime(1000):.8f}" in text
    peak = seed_comparison.output_speed_peak()  # `experiments.output_speed_peak()`
    assert peak["ce"] == pytest.approx(2 / 3, abs=1e-4) and "largest at e = 2/3" in text
    assert peak["mse"] == pytest.approx(3 / 5, abs=1e-4) and "peaks at e = 3/5" in text
    a0 = 1 / (1 + math.exp(-4.0))
    assert f"e₀ = σ(4) = {a0:.3f}" in text and f"1/σ′(4) ≈ {1 / (a0 * (1 - a0)):.0f}" in text

    header = table_row(page("learning_rate"), "start z₀ = w₀ + b₀ (x = 1, y = 0)")
    row = table_row(page("learning_rate"), "matched η ratio (half error)")
    z0s = [float(h.split()[0].replace("−", "-")) for h in header[1:]]
    for z0, quoted in zip(z0s, row[1:], strict=True):
        number = quoted.split()[0]
        ratio = flow.matched_learning_rate_ratio(0.0, z0)
        assert as_quoted(ratio, number) == number, (z0, ratio, quoted)
    assert f"{math.log(2):.4f}" == "0.6931"
    assert f"The minimum over z₀, {flow.matched_learning_rate_ratio(0.0, math.log(2)):.4f}" in text
    assert f"at z₀ = 0.75 the ratio is {flow.matched_learning_rate_ratio(0.0, 0.75):.3f}" in text


def test_learning_rate_criteria_and_real_runs_are_the_match(learning_rate):
    text = page("learning_rate")
    for match, label in zip(
        learning_rate["match"], ("z₀ = 1.5 (seed (0.6, 0.9))", "z₀ = 4 (seed (2, 2))"), strict=True
    ):
        assert table_row(text, label)[1:] == [f"{r['ratio']:.1f}" for r in match["matched_ratios"]]
        six, thirty, matched = match["mse"]
        assert (six["ratio"], thirty["ratio"]) == (6.0, pytest.approx(30.0))
        w0, b0 = match["start"]
        assert table_row(text, f"({w0:g}, {b0:g})") == [
            f"({w0:g}, {b0:g})",
            f"epoch {match['ce_half_error_epoch']}",
            f"epoch {six['half_error_epoch']}",
            f"epoch {thirty['half_error_epoch']}",
            f"×{matched['ratio']:.3g}: epoch {matched['half_error_epoch']}",
        ]
    mild, saturated = learning_rate["match"]
    prose = flat(text)
    thirty = [m["mse"][1]["half_error_epoch"] for m in (mild, saturated)]
    ce = [m["ce_half_error_epoch"] for m in (mild, saturated)]
    assert f"(epochs {thirty[0]} and {thirty[1]} against {ce[0]} and {ce[1]})" in prose
    ratios = [f"{r['ratio']:.1f}".removesuffix(".0") for r in saturated["matched_ratios"]]
    assert f"needs {ratios[0]}× the cross-entropy's η" in prose
    assert f"({ratios[1]}×, {ratios[2]}× and {ratios[3]}× for a quarter" in prose


# --- docs/counterpoints.md § 4: `xent-jax linear-plateau` --------------------------------------


@pytest.fixture(scope="module")
def plateau():
    from xent_jax.studies import _linear_plateau as linear

    return [run.summary() for run in linear.linear_plateau()], linear.learn_modes().summary()


def test_linear_plateau_table_and_modes_are_the_command(plateau):
    runs, modes = plateau
    text = page("counterpoints")
    section_4 = section(text, "## 4.", "## 5.")
    quoted = [line for line in section_4.splitlines() if re.match(r"\| [\d.e-]+ \| \d+ \|", line)]
    assert quoted == [
        f"| {e_short(r['init'], 0) if r['init'] < 1e-4 else format(r['init'], 'g')} | "
        f"{r['epochs_to_half']} | {r['closed_form_epochs']:.1f} |"
        for r in runs
    ]
    assert {r["strength"] for r in runs} == {1.0} and {r["learning_rate"] for r in runs} == {0.02}
    step = math.log(10) / (2 * 0.02)  # ln(10)/(2ηs)
    assert f"ln(10)/(2ηs) ≈ {step:.1f} epochs" in flat(section_4)
    (s3, s2, s1), (e3, e2, e1) = modes["epochs_to_half"], modes["closed_form_epochs"]
    assert modes["strengths"] == [3.0, 2.0, 1.0] and modes["init"] == 1e-4
    assert (
        f"mode s = 3 reaches s/2 at epoch {s3} (closed form {e3:.1f}), s = 2 at {s2} ({e2:.1f}), "
        f"s = 1 at {s1} ({e1:.1f})" in flat(section_4)
    )


# --- docs/network.md: `xent-jax network` (seed 0) and seeds 1, 2 -------------------------------


@pytest.fixture(scope="module")
def network():
    from xent_jax.studies import _network

    by_seed = {seed: [r.summary() for r in _network.compare_losses(seed=seed)] for seed in range(3)}
    slow = _network.train_network("mse", "saturated", learning_rate=0.5, epochs=60)
    normal = _network.train_network("mse", "normal", learning_rate=0.5, epochs=60)
    return {"runs": by_seed, "equal_eta": (slow.summary(), normal.summary())}


def _network_runs(runs):
    return {(r["loss"], r["init"]): r for r in runs}


def test_network_table_is_the_command(network):
    text = page("network")
    runs = _network_runs(network["runs"][0])
    for (loss, init), name in zip(
        [("mse", "normal"), ("mse", "saturated"), ("ce", "normal"), ("ce", "saturated")],
        ["quadratic", "quadratic", "cross-entropy", "cross-entropy"],
        strict=True,
    ):
        r = runs[loss, init]
        assert (r["epochs"], r["seed"]) == (30, 0)
        assert table_row(text, name, init) == [
            name,
            init,
            f"{r['learning_rate']:g}",
            f"{100 * r['test_accuracy']:.1f} %",
            str(r["epoch_test_accuracy_90"]),
            str(r["epoch_wrong_saturated_below_1pct"]),
        ]


def test_network_prose_is_the_runs(network):
    text = flat(page("network"))
    runs = _network_runs(network["runs"][0])
    stall, ce = runs["mse", "saturated"], runs["ce", "saturated"]
    wrong = ce["history"]["wrong_saturated"]
    assert f"fall from {100 * wrong[0]:.0f} % to {100 * wrong[1]:.0f} % in the first epoch" in text
    loss = stall["history"]["train_loss"][:4]
    assert f"loss goes {' → '.join(f'{v:.5f}' for v in loss)} over the first three epochs" in text
    # test accuracy over epochs 1–9 (the nine epochs at chance), then recovery
    chance = 100 * np.array(stall["history"]["test_accuracy"][1:10])
    assert f"at chance ({chance.min():.1f}–{chance.max():.1f} %) for nine epochs" in text
    assert stall["history"]["test_accuracy"][10] > 0.3
    behind = stall["epoch_test_accuracy_90"] - runs["mse", "normal"]["epoch_test_accuracy_90"]
    assert (
        f"reaching 90 % at epoch {stall['epoch_test_accuracy_90']} ({behind} epochs behind the "
        f"normal start) and {100 * stall['test_accuracy']:.1f} % at 30" in text
    )
    saturated = [runs[loss, "normal"]["history"]["saturated"][30] for loss in ("ce", "mse")]
    assert f"({100 * saturated[0]:.0f} % against {100 * saturated[1]:.0f} % at epoch 30)" in text


def test_network_three_seeds_are_the_command(network):
    text = flat(page("network"))
    per_seed = [_network_runs(network["runs"][seed]) for seed in range(3)]
    stalls = [runs["mse", "saturated"]["epoch_test_accuracy_90"] for runs in per_seed]
    assert f"first reaches 90 % at epochs {stalls[0]}, {stalls[1]} and {stalls[2]};" in text
    others = {
        r["epoch_test_accuracy_90"]
        for runs in per_seed
        for key, r in runs.items()
        if key != ("mse", "saturated")
    }
    assert others == {3, 4} and "every other run at epoch 3 or 4" in text
    final = [100 * r["test_accuracy"] for runs in per_seed for r in runs.values()]
    assert len(final) == 12
    assert f"Final accuracies {min(final):.1f}–{max(final):.1f} % for all twelve runs" in text
    costs = [
        runs["ce", "saturated"]["epoch_test_accuracy_90"]
        - runs["ce", "normal"]["epoch_test_accuracy_90"]
        for runs in per_seed
    ]
    assert f"(seeds 0, 1, 2: {costs[0]}, {costs[1]} and {costs[2]})" in text
    # counterpoints.md quotes the same three seeds of the saturated quadratic start
    assert f"seeds 0, 1, 2 here give the {', '.join(map(str, stalls))} of network.md" in flat(
        page("counterpoints")
    )


def test_network_equal_eta_stall_is_the_call(network):
    text = flat(page("network"))
    slow, normal = network["equal_eta"]
    assert slow["learning_rate"] == normal["learning_rate"] == 0.5
    assert f"the training loss is still {slow['history']['train_loss'][20]:.3f} after 20" in text
    assert (
        f"fall below 1 % only at epoch {slow['epoch_wrong_saturated_below_1pct']}, and the test "
        f"accuracy is {100 * slow['test_accuracy']:.1f} % after 60 epochs" in text
    )
    assert f"reaches 90 % at epoch {normal['epoch_test_accuracy_90']})" in text


# --- docs/counterpoints.md § 5: `xent-jax calibration` (seed 0) -------------------------------


@pytest.fixture(scope="module")
def calibration():
    from xent_jax.studies import _calibration

    settings = _calibration.CalibrationSettings()
    results = {r.name: r.summary() for r in _calibration.calibration_study(settings)}
    # seeds 1 and 2 of the 10-seed run, cross-entropy only (each method trains on its own)
    for seed in (1, 2):
        settings = _calibration.CalibrationSettings(seed=seed)
        (ce,) = _calibration.calibration_study(settings, methods=("ce",))
        results[f"ce, seed {seed}"] = ce.summary()
    return results


def test_calibration_table_is_the_command(calibration):
    text = page("counterpoints")
    names = {
        "ce": "cross-entropy",
        "ce_label_smoothing": "CE, label smoothing 0.1",
        "quadratic": "quadratic (on softmax)",
        "focal": "focal, γ = 2",
    }
    assert set(names) <= set(calibration)
    for key, name in names.items():
        s = calibration[key]
        row = table_row(section(text, "## 5.", "Over ten seeds"), name)
        assert row == [
            name,
            f"{100 * s['test_accuracy']:.1f} %",
            f"{s['nll']:.4f}",
            f"{100 * s['ece']:.2f} %",
            f"{100 * s['mean_confidence']:.1f} %",
            f"{s['temperature']:.3f}",
            f"{s['nll_after_temperature']:.4f}",
            f"{100 * s['ece_after_temperature']:.2f} %",
        ]
    prose = flat(text)
    ce, ls, quad, focal = (calibration[k] for k in names)
    assert (
        f"{100 * ls['mean_confidence']:.1f} % at {100 * ls['test_accuracy']:.1f} % accuracy, "
        f"and its ECE {100 * ls['ece']:.1f} %" in prose
    )
    assert f"Focal loss does the same, less strongly (ECE {100 * focal['ece']:.1f} %)" in prose
    assert f"seed 0: {100 * ce['ece']:.2f} → {100 * ce['ece_after_temperature']:.2f} %" in prose
    assert f"(seed 0: {quad['nll']:.4f} → {quad['nll_after_temperature']:.4f})" in prose
    one, two = calibration["ce, seed 1"], calibration["ce, seed 2"]
    assert (
        f"seed 1: {100 * one['ece']:.2f} → {100 * one['ece_after_temperature']:.2f} %, seed 2: "
        f"{100 * two['ece']:.2f} → {100 * two['ece_after_temperature']:.2f} %)" in prose
    )


# --- docs/counterpoints.md § 6: the single neuron's flipped label (`flipped_label_atlas`) --------


def test_flipped_label_atlas_table_is_the_call():
    from xent_jax.studies import _label_noise

    atlas = _label_noise.flipped_label_atlas().summary()
    text = section(page("counterpoints"), "**One neuron, one flipped label.**", "## 7.")
    header = table_row(text, "loss", "clean rule kept (share of the grid) at τ = 75")
    taus = [float(re.search(r"[\d.]+$", cell).group()) for cell in header[1:]]
    assert taus == atlas["flow_time"] and atlas["resolution"] == [128, 128]
    for loss, name in (("mse", "quadratic"), ("ce", "cross-entropy")):
        assert table_row(text, name)[1:] == [
            f"{100 * v:.1f} %" for v in atlas["kept_fraction"][loss]
        ]


# --- docs/counterpoints.md § 7: `xent-jax collapse` --------------------------------------------


@pytest.fixture(scope="module")
def collapse():
    from xent_jax.studies import _softmax_collapse

    return _softmax_collapse.collapse_gap_table(), _softmax_collapse.collapse_study()


def test_collapse_gap_table_measured_column_is_the_command(collapse):
    # the closed-form columns are test_documented_numbers.py's; here u and XLA's own column
    text = section(page("counterpoints"), "## 7.", "**In training**")
    for row in collapse[0]:
        quoted = table_row(text, row["dtype"])
        assert quoted[1] == e_short(row["unit_roundoff"])
        assert quoted[4] == f"{row['measured_ten_classes']:.2f}", row


def _thousands(epoch):
    return "never" if epoch is None else f"{epoch:,}"


def test_collapse_runs_table_is_the_command(collapse):
    text = section(page("counterpoints"), "**In training**", "## Commands")
    runs = collapse[1]
    names = [
        "float64",
        "float32",
        "bfloat16",
        "float16",
        "float32, label smoothing 0.1",
        "float32, L2 penalty 1e-3",
    ]
    stopped = {}
    for run, name in zip(runs, names, strict=True):
        s = run.summary()
        first = np.flatnonzero(run.collapsed > 0)
        first_any = int(run.epochs[first[0]]) if first.size else None
        every = run.first_collapsed()
        row = table_row(text, name)
        assert row[1].removeprefix("epoch ") == _thousands(first_any), (name, row)
        assert row[2] == _thousands(every), (name, row)
        gap_then = "–" if every is None else f"{run.gap[list(run.epochs).index(every)]:.2f}"
        assert row[3] == gap_then
        assert row[4] == f"{s['final_gap']:.2f}"
        if s["final_loss"] == 0:
            assert row[5] == "**exactly 0**", (name, row)
        else:
            assert_significant(row[5], s["final_loss"])
        if not run.moved[-1]:  # the first checkpoint from which the weights never move again
            last = np.flatnonzero(run.moved)[-1]
            assert not run.moved[last + 1 :].any()
            stopped[name] = int(run.epochs[last + 1])
            assert row[6] == f"**stopped at epoch {stopped[name]:,}**", (name, row)
        else:
            assert "stopped" not in row[6]
    assert list(stopped) == ["float16"]
    prose = flat(text)
    by_name = dict(zip(names, runs, strict=True))
    every = {n: _thousands(by_name[n].first_collapsed()) for n in names[1:4]}
    assert (
        f"in bfloat16 from epoch {every['bfloat16']} for every sample, in float16 from "
        f"{every['float16']}, in float32 from {every['float32']}" in prose
    )
    firsts = [
        _thousands(int(by_name[n].epochs[np.argmax(by_name[n].collapsed > 0)])) for n in names[1:4]
    ]
    assert f"(the first samples from epochs {firsts[1]}, {firsts[2]} and {firsts[0]})" in prose
    moving = [by_name[n].gap[-1] for n in ("float32", "bfloat16")]
    assert f"moving along it to gaps of {moving[0]:.2f} and {moving[1]:.2f}." in prose
    float16 = by_name["float16"].gap[-1]
    assert f"stop for good at epoch {stopped['float16']:,}, with a gap of {float16:.2f}" in prose
    smoothing, l2 = runs[4].gap[-1], runs[5].gap[-1]
    assert f"the mean gap settles at {smoothing:.2f}" in prose
    assert f"at a mean gap of {l2:.2f}" in prose
    assert f"reaches {runs[0].gap[-1]:.1f}." in prose
    checkpoints = {len(run.epochs) for run in runs}
    assert len(checkpoints) == 1 and f"measured at {checkpoints.pop()} log-spaced epochs" in prose
    # float16 rounds e^{−g} to 0 below half its smallest subnormal 2^−24: from g = 25 ln 2
    g = 25 * math.log(2)
    assert np.float16(math.exp(-g + 0.01)) > 0 and np.float16(math.exp(-g - 0.01)) == 0
    assert f"float16 itself rounds to 0 from g ≈ {g:.1f}" in flat(page("counterpoints"))
    assert f"rounds to 0 (from g ≈ {g:.1f})" in prose


# --- docs/landscapes.md: `xent-jax demo`'s tables and the sweeps the page names ----------------


def test_landscapes_flow_table_is_the_demo(demo):
    _flow_table_is_the_closed_form(page("landscapes"), demo["flow"])


def test_landscapes_data_sets_claims_are_the_sweeps():
    from xent_jax import sweep

    text = flat(page("landscapes"))
    metrics = {}
    for data in ("pull", "separable", "overlap"):
        # `sweep.sweep(resolution=128, epochs=600, learning_rate=0.5, data="overlap")`
        atlas = sweep.sweep(resolution=128, epochs=600, learning_rate=0.5, data=data)
        metrics[data] = {loss: atlas.metrics[loss] for loss in ("mse", "ce")}
    assert (
        '`sweep.sweep(resolution=128, epochs=600, learning_rate=0.5, data="overlap")`) no start '
        "halves its mean error under either loss" in text
    )
    assert all((m.half_error_epoch < 0).all() for m in metrics["overlap"].values())
    # "its takeoff epoch is 0 by construction (on pull, separable and overlap too: 100 % ...)"
    assert "(on `pull`, `separable` and `overlap` too: 100 % of the starts" in text
    assert all((c["ce"].takeoff_epoch == 0).all() for c in metrics.values())


def test_landscapes_survival_table_medians_are_the_demo():
    # the S(10), S(100) and censored columns are test_documented_numbers.py's; here S(1), the
    # medians and the superseded τ = 9 reading the page names
    from xent_jax import sweep
    from xent_jax.sweep import _survival as survival

    atlas = sweep.sweep(resolution=256, epochs=600, learning_rate=0.5, data="separable")
    text = page("landscapes")
    at_nine = {}
    for loss, name in (("mse", "quadratic"), ("ce", "cross-entropy")):
        half = atlas.metrics[loss].half_error_epoch
        median = next(q for q in survival.summarise(half, 0.5, 600)["quantiles"] if q["q"] == 0.5)
        assert not median["lower_bound"]
        row = table_row(text, name)
        (at_one,) = survival.survival_at(half, 0.5, 600, [1.0])
        assert row[1] == f"{100 * at_one:.0f} %"
        assert row[-1] == f"epoch {median['epoch']} (τ = {median['flow_time']:g})"
        at_nine[loss] = 100 * survival.survival_at(half, 0.5, 600, [9.0])[0]
    assert f"τ = 9, {at_nine['ce']:.2f} % and {at_nine['mse']:.2f} %." in flat(text)


def test_landscapes_seed_atlas_prose_is_the_sweep():
    from xent_jax import sweep

    atlas = sweep.sweep(resolution=128, epochs=300)  # the seed's sample and η, as the snippet
    rates = atlas.spec.settings.learning_rates
    assert rates == {"mse": 0.15, "ce": 0.005}
    kept, median = {}, {}
    for loss in ("mse", "ce"):
        half = atlas.metrics[loss].half_error_epoch
        kept[loss] = 100 * np.mean(half >= 0)
        median[loss] = rates[loss] * np.median(half[half >= 0])  # finished cells only, in τ
    text = flat(page("landscapes"))
    assert (
        f"reaches half its error at η × epochs {median['ce']:.2f} against {median['mse']:.1f}, "
        f"but it keeps {kept['ce']:.1f} % of the cross-entropy's cells and {kept['mse']:.1f} % "
        "of the quadratic's" in text
    )
    i, j = np.argmin(np.abs(atlas.w0 - 2)), np.argmin(np.abs(atlas.b0 - 2))
    cell = atlas.metrics["mse"].takeoff_epoch[j, i]
    assert f"(the nearest grid cell, ({atlas.w0[i]:.3f}, {atlas.b0[j]:.3f}), says {cell};" in text


# --- docs/sweep.md: the seed atlas and the optimizer table (make_sweep_figures.py's run) --------


@pytest.fixture(scope="module")
def optimizers():
    from xent_jax import sweep

    # what docs/figures/make_sweep_figures.py runs: 128² starts, 300 epochs, the seed's η
    return sweep.compare_optimizers(resolution=128, epochs=300)


@pytest.mark.standard_promotion  # optax's Adam fails JAX's strict promotion (conftest.py)
def test_sweep_optimizer_table_is_the_figure_script(optimizers):
    from xent_jax.core._seed import STARTS
    from xent_jax.core._training import train

    text = page("sweep")
    quoted = [line for line in text.splitlines() if re.match(r"\| (sgd|momentum|adam) \|", line)]
    expected, exact = [], {}
    for optimizer, result in optimizers.items():
        stats = result.summary()["statistics"]
        for loss in result.metrics:
            eta = result.config["learning_rates"][loss]
            runs = [
                train(loss, w0, b0, learning_rate=eta, epochs=300, optimizer=optimizer)
                for w0, b0 in STARTS
            ]
            exact[optimizer, loss] = [(r.takeoff_epoch, r.half_error_epoch) for r in runs]
            takeoff, half = stats[loss]["takeoff_epoch"], stats[loss]["half_error_epoch"]
            median = "> 300" if half["median_is_lower_bound"] else f"{half['median']:g}"
            final = float(np.median(result.metrics[loss].final_loss))
            expected.append(
                f"| {optimizer} | {loss} | {eta:g} | {100 * takeoff['censored_fraction']:.1f}% "
                f"| {takeoff['max']} | {100 * half['censored_fraction']:.1f}% | {median} "
                f"| {exact[optimizer, loss]} | {final:.2g} |"
            )
    assert quoted == expected
    prose = flat(text)
    adam = optimizers["adam"].metrics["mse"].half_error_epoch
    assert (adam >= 0).all() and f"half its error, within {adam.max()} epochs" in prose
    takeoff = exact["adam", "mse"][1][0], exact["sgd", "mse"][1][0]
    assert f"takes off at epoch {takeoff[0]} instead of {takeoff[1]}" in prose
    medians = [
        optimizers[o].summary()["statistics"]["ce"]["half_error_epoch"]["median"]
        for o in ("adam", "momentum")
    ]
    assert f"(median half-error over all starts {medians[0]} vs {medians[1]} epochs;" in prose
    momentum = optimizers["momentum"]
    z0 = np.add.outer(momentum.b0, momentum.w0).astype(float)
    censored = momentum.metrics["mse"].half_error_epoch < 0
    shares = [100 * np.mean(c) for c in (censored, censored & (z0 < 0), censored & (z0 >= 0))]
    assert (
        f"{shares[0]:.1f} % of its half-error cells are censored, but {shares[1]:.1f} % of the "
        f"grid are starts already on the right side" in prose
    )
    assert f"the plateau band itself is {shares[2]:.1f} %" in prose
    sgd = optimizers["sgd"]
    kept = {loss: 100 * np.mean(sgd.metrics[loss].half_error_epoch >= 0) for loss in ("ce", "mse")}
    assert (
        f"keeps {kept['ce']:.1f} % of the cross-entropy's cells and {kept['mse']:.0f} % of the "
        "quadratic's" in prose
    )


def test_sweep_seed_atlas_prose_is_the_sweep(optimizers):
    from xent_jax import sweep

    text = flat(page("sweep"))
    sgd = optimizers["sgd"]
    takeoff = sgd.metrics["mse"].takeoff_epoch
    assert f"epoch 300 ({100 * np.mean(takeoff < 0):.0f} % of the grid censored)" in text
    i, j = np.argmin(np.abs(sgd.w0 - 2)), np.argmin(np.abs(sgd.b0 - 2))
    assert f"cell, ({sgd.w0[i]:.3f}, {sgd.b0[j]:.3f}), says {takeoff[j, i]})" in text
    # float32 starts with z0 < −7 whose step is below the spacing of float32: censored takeoff
    z0 = np.add.outer(sgd.b0, sgd.w0).astype(float)
    stuck = int(np.sum((takeoff < 0) & (z0 < -7)))
    f64 = sweep.sweep("mse", resolution=128, epochs=300, dtype="float64")
    stuck64 = int(np.sum((f64.metrics["mse"].takeoff_epoch < 0) & (z0 < -7)))
    assert stuck64 == 0 and f"({stuck} of the 16 384 starts above, none of them in float64)" in text
    # the plateau's closed form t* = [F(z0) − F(ln 2)]/(2η) against the measured takeoff
    runs = sweep.run_configs("mse", 0.0, np.array([1.0, 4.0, 5.0]), learning_rate=0.15, epochs=1000)
    first, _, last = runs.takeoff_epoch

    def f(z):
        return math.exp(z) + 3 * z - 3 * math.exp(-z) - 0.5 * math.exp(-2 * z)

    t_star = (f(4.0) - f(math.log(2))) / (2 * 0.15)
    assert f"z0 from 1 to 5 ({first} to {last} epochs at η = 0.15" in text
    assert f"(2, 2) start (z0 = 4) has t* = {t_star:.0f}." in text
    assert f"the closed form t* = {t_star:.0f})" in flat(page("landscapes"))


# --- docs/counterpoints.md § 1 and network.md: the 20-seed study --------------------------------


def test_twenty_seed_figures_are_the_ones_recomputed_for_the_readme():
    # test_docs_quoted_long.py checks these figures against `xent-jax network --seeds 20`;
    # test_documented_numbers.py recomputes the paired costs and the saturated quadratic start
    # (with SciPy, within the tolerance counterpoints.md states) and finds them in the README.
    # Here the two pages must quote exactly the README's figures.
    readme = flat((DOCS.parent / "README.md").read_text())
    interval = r"(\S+ \[[^\]]+\])"
    costs = re.search(
        rf"start costs it {interval} epochs, sigmoid \+ binary cross-entropy {interval} and "
        rf"softmax \+ cross-entropy {interval}",
        readme,
    ).groups()
    (squentropy,) = re.search(rf"pays {interval} epochs for the saturated", readme).groups()
    stall, low, high = re.search(
        rf"network needs {interval} epochs \((\d+) to (\d+) across seeds\)", readme
    ).groups()
    counterpoints = page("counterpoints")
    table = section(counterpoints, "What a start costs", "![test accuracy per seed")
    for pairing, cost in zip(
        ("sigmoid + quadratic", "sigmoid + BCE", "softmax + CE", "softmax + squentropy"),
        (*costs, squentropy),
        strict=True,
    ):
        assert table_row(table, pairing)[1].strip("*") == f"+{cost}", pairing
    row = table_row(counterpoints, "sigmoid + quadratic", "saturated")
    assert (row[2], row[3]) == (f"**{stall}**", f"**{low}–{high}**")
    mean, rest = stall.split(" ", 1)
    prose = flat(counterpoints)
    assert f"the quadratic loss needs {mean} epochs on average to reach 90 %" in prose
    assert f"anywhere from {low} to {high} depending on the seed" in prose
    assert f"{costs[0]} epochs more than from the normal start" in prose
    assert f"sigmoid + BCE {costs[1]} epochs" in prose and f"softmax + CE {costs[2]}" in prose
    assert f"saturated output start costs it {squentropy} epochs" in prose
    network = flat(page("network"))
    assert f"after {mean} epochs on average (95 % t-interval {rest};" in network
    assert f"anywhere from {low} to {high}, and costs {costs[0]} epochs" in network
    assert f"the start costs it {costs[1]} epochs to 90 %" in network
    assert f"sigmoid cross-entropy {costs[1]} epochs" in network
