"""The numbers the pages quote from the three long runs are those runs' output.

test_docs_quoted.py's companion for the commands it leaves out for their cost:
`xent-jax network --seeds 20` (about 100 s), `xent-jax calibration --seeds 10` (about 80 s)
and `xent-jax label-noise` (about 2 minutes). Each runs once, in-process through
``xent_jax.cli.main([..., "--json", "--out", tmp])``, in a module-scoped fixture, and each test
reads the page's table rows and sentences and checks every number is the command's value
formatted as the page writes it (the page chooses the decimals, the run gives the digits), so
editing a number in the page fails here.

The runs train in float32 and XLA's summation order differs across CPUs: counterpoints.md says
how far these figures move on another machine (a seed's epoch to 90 % by ±1; a 20-seed mean by
about ±0.1). The checks here are exact, for this machine's jax 0.10.2 on CPU;
test_documented_numbers.py checks the 20-seed study's headline figures within that tolerance.
"""

import contextlib
import io
import json

import numpy as np
import pytest

from test_docs_quoted import flat, page, section, table_row

pytestmark = pytest.mark.slow


def command(tmp_path_factory, *argv: str) -> dict:
    """`xent-jax ARGV --json --out TMP`, in this process: its JSON."""
    from xent_jax.cli import main

    out = tmp_path_factory.mktemp(argv[0])
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main([*argv, "--json", "--out", str(out)]) == 0
    return json.loads(stdout.getvalue())


def decimals(quoted: str) -> int:
    return len(quoted.partition(".")[2])


def signed(value: float, digits: int, sign: str = "") -> str:
    """``value`` as the pages write it: ``digits`` decimals, a true minus sign, ``sign`` "+" to
    write the plus of a positive number."""
    return f"{value:{sign}.{digits}f}".replace("-", "−")


def interval_cell(quoted: str, mean: float, lo: float, hi: float, sign: str = "") -> str:
    """ "m [lo, hi]" with the decimals the page chose for ``quoted``'s mean."""
    digits = decimals(quoted.split(" ")[0])
    return f"{signed(mean, digits, sign)} [{signed(lo, digits, sign)}, {signed(hi, digits, sign)}]"


def plain(cell: str) -> str:
    return cell.replace("**", "")


# --- docs/counterpoints.md §§ 1–3 and network.md: `xent-jax network --seeds 20` -----------------


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    result = command(tmp_path_factory, "network", "--seeds", "20")
    conditions = {(c["output"], c["loss"], c["start"]): c for c in result["conditions"]}
    costs = {(c["output"], c["loss"], c["start"]): c for c in result["start_costs"]}
    return conditions, costs


PAIRINGS = {
    "sigmoid + quadratic": ("sigmoid", "mse"),
    "sigmoid + BCE": ("sigmoid", "ce"),
    "softmax + CE": ("softmax", "ce"),
    "linear + square": ("linear", "mse"),
    "softmax + squentropy": ("softmax", "squentropy"),
}
STARTS = ("normal", "saturated", "saturated_hidden")


def _reached(condition):
    return [e for e in condition["epochs_to_90"] if e is not None]


def test_twenty_seed_table_is_the_command(seeds):
    conditions, _ = seeds
    text = section(page("counterpoints"), "## 1.", "What a start costs")
    quoted_rows = [line for line in text.splitlines() if line.startswith("| ") and "/20 |" in line]
    assert len(quoted_rows) == len(PAIRINGS) * len(STARTS) == len(conditions)
    for name, pairing in PAIRINGS.items():
        for start in STARTS:
            c = conditions[(*pairing, start)]
            assert c["seeds"] == list(range(20))
            row = [plain(cell) for cell in table_row(text, name, start)]
            reached = _reached(c)
            if reached:
                epochs = interval_cell(row[2], c["epochs_to_90_mean"], *c["epochs_to_90_interval"])
                spread = f"{min(reached)}–{max(reached)}"
            else:
                epochs, spread = "never in 60 epochs", "–"
            final = [
                100 * v for v in (c["final_test_accuracy_mean"], *c["final_test_accuracy_interval"])
            ]
            assert row == [
                name,
                start,
                epochs,
                spread,
                f"{c['reached_90']}/20",
                interval_cell(row[5], *final),
            ], (name, start)


def _cost_cell(quoted: str, cost: dict) -> str:
    if cost["mean"] is None:
        n = len(cost["differences"])
        return f"never reaches 90 % ({cost['censored']} of {n} seeds censored)"
    digits = decimals(quoted.split(" ")[0])
    lo, hi = (signed(v, digits) for v in cost["interval"])
    return f"{signed(cost['mean'], digits, '+')} [{lo}, {hi}]"


def test_start_costs_table_is_the_command(seeds):
    _, costs = seeds
    text = section(page("counterpoints"), "What a start costs", "![test accuracy per seed")
    assert table_row(text, "pairing")[1:] == ["saturated output layer", "saturated hidden layer"]
    for name, pairing in PAIRINGS.items():
        row = [plain(cell) for cell in table_row(text, name)]
        expected = [
            _cost_cell(row[i], costs[(*pairing, s)])
            for i, s in ((1, "saturated"), (2, "saturated_hidden"))
        ]
        assert row[1:] == expected, name
    assert len(costs) == 2 * len(PAIRINGS)


def _cost(costs, pairing, start="saturated", digits=2):
    c = costs[(*PAIRINGS[pairing], start)]
    lo, hi = (signed(v, digits) for v in c["interval"])
    return f"{signed(c['mean'], digits)} [{lo}, {hi}]"


def _mean(conditions, pairing, start, digits=1):
    return signed(conditions[(*PAIRINGS[pairing], start)]["epochs_to_90_mean"], digits)


def _final(conditions, pairing, start, interval=False):
    c = conditions[(*PAIRINGS[pairing], start)]
    mean = f"{100 * c['final_test_accuracy_mean']:.1f} %"
    if not interval:
        return mean
    lo, hi = (100 * v for v in c["final_test_accuracy_interval"])
    return f"{mean} [{lo:.1f}, {hi:.1f}]"


def test_twenty_seed_prose_is_the_command(seeds):
    conditions, costs = seeds
    prose = flat(section(page("counterpoints"), "![test accuracy per seed", "## 4."))
    stall = conditions["sigmoid", "mse", "saturated"]
    epochs = stall["epochs_to_90"]
    assert (
        f"the quadratic loss needs {stall['epochs_to_90_mean']:.1f} epochs on average to reach "
        f"90 %, but anywhere from {min(epochs)} to {max(epochs)} depending on the seed (seeds 0, "
        f"1, 2 give {epochs[0]}, {epochs[1]} and {epochs[2]}): "
        f"{_cost(costs, 'sigmoid + quadratic', digits=1)} epochs more" in prose
    )
    bce = costs["sigmoid", "ce", "saturated"]["differences"]
    later = [d for d in bce if d > 0]
    assert min(bce) >= 0 and set(later) == {1, 2}
    assert (
        f"sigmoid + BCE {_cost(costs, 'sigmoid + BCE')} epochs (its interval excludes 0: "
        f"{len(later)} of 20 seeds are later, {later.count(1)} by one epoch and "
        f"{later.count(2)} by two, none earlier), softmax + CE "
        f"{_cost(costs, 'softmax + CE')} (an interval that contains 0)" in prose
    )
    assert costs["sigmoid", "ce", "saturated"]["interval"][0] > 0
    lo, hi = costs["softmax", "ce", "saturated"]["interval"]
    assert lo < 0 < hi
    cheap = [_cost(costs, p).split(" ")[0] for p in ("softmax + CE", "sigmoid + BCE")]
    section_6 = flat(section(page("counterpoints"), "## 6.", "| loss (p = softmax(z)"))
    assert f"a bad start costs little ({cheap[0]}–{cheap[1]} epochs above)" in section_6
    finals = [
        100 * conditions[(*PAIRINGS[p], s)]["final_test_accuracy_mean"]
        for p in ("sigmoid + quadratic", "sigmoid + BCE", "softmax + CE", "linear + square")
        for s in ("normal", "saturated")
    ]
    assert (
        f"the sigmoid, softmax + CE and linear pairings from either output start are at "
        f"{min(finals):.1f}–{max(finals):.1f} %" in prose
    )
    squentropy, ce = "softmax + squentropy", "softmax + CE"
    paid = 100 * np.subtract(
        *(conditions["softmax", "squentropy", s]["final_test_accuracy_mean"] for s in STARTS[:2])
    )
    assert (
        f"as fast as the cross-entropies ({_mean(conditions, squentropy, 'normal')} epochs to "
        f"90 %), but the saturated output start costs it {_cost(costs, squentropy, digits=1)} "
        f"epochs, where it costs softmax + CE {_cost(costs, ce).split(' ')[0]}, and "
        f"{paid:.0f} point of final accuracy ({_final(conditions, squentropy, 'saturated')} "
        f"against "
        f"{_final(conditions, squentropy, 'normal')}), while a saturated hidden layer costs it "
        f"only {_cost(costs, squentropy, 'saturated_hidden', 1)} epochs against softmax + CE's "
        f"{_cost(costs, ce, 'saturated_hidden').split(' ')[0]}" in prose
    )
    hidden = np.mean(
        [
            c["history"]["hidden_saturated"][seed][0]
            for c in conditions.values()
            if c["start"] == "saturated_hidden"
            for seed in range(20)
        ]
    )
    assert f"so {100 * hidden:.1f} % of hidden units start with σ′ < 0.01" in flat(
        page("counterpoints")
    )


def test_square_loss_and_hidden_saturation_sections_are_the_command(seeds):
    conditions, _ = seeds
    text = page("counterpoints")
    two = flat(section(text, "## 2.", "## 3."))
    linear, ce = "linear + square", "softmax + CE"
    assert (
        f"costs the square loss nothing ({_mean(conditions, linear, 'saturated')} epochs from "
        "either start)" in two
    )
    assert _mean(conditions, linear, "normal") == _mean(conditions, linear, "saturated")
    assert (
        f"Its final accuracy, {_final(conditions, linear, 'normal', True)}, overlaps softmax + "
        f"CE's {_final(conditions, ce, 'normal', True)}; it is slower to 90 % "
        f"({_mean(conditions, linear, 'normal')} against {_mean(conditions, ce, 'normal')} "
        f"epochs) at the smaller η" in two
    )
    assert conditions["linear", "mse", "normal"]["learning_rate"] == 0.2
    three = flat(section(text, "## 3.", "## 4."))
    hidden = {p: conditions[(*PAIRINGS[p], "saturated_hidden")] for p in PAIRINGS}
    bce, sce = hidden["sigmoid + BCE"], hidden["softmax + CE"]
    means = sorted(round(c["epochs_to_90_mean"]) for c in (bce, sce))
    normal = sorted(
        round(conditions[(*PAIRINGS[p], "normal")]["epochs_to_90_mean"])
        for p in ("sigmoid + BCE", "softmax + CE")
    )
    intervals = [
        f"[{lo:.1f}, {hi:.1f}]" for lo, hi in (c["epochs_to_90_interval"] for c in (bce, sce))
    ]
    assert (
        f"both cross-entropies need {means[0]}–{means[1]} epochs instead of {normal[0]}–"
        f"{normal[1]} (intervals {intervals[0]} and {intervals[1]}, disjoint from the normal "
        f"start's), the sigmoid quadratic "
        f"{_mean(conditions, 'sigmoid + quadratic', 'saturated_hidden')}, and the linear square "
        "loss does not reach 90 % in 60 epochs" in three
    )
    for c in (bce, sce):
        normal_hi = conditions[c["output"], c["loss"], "normal"]["epochs_to_90_interval"][1]
        assert c["epochs_to_90_interval"][0] > normal_hi
    assert hidden[linear]["reached_90"] == 0
    drops = {
        p: 100
        * (
            conditions[(*PAIRINGS[p], "normal")]["final_test_accuracy_mean"]
            - hidden[p]["final_test_accuracy_mean"]
        )
        for p in PAIRINGS
    }
    reaching = [drops[p] for p in PAIRINGS if p != linear]
    assert (
        f"Final accuracies are {min(reaching):.1f}–{max(reaching):.1f} points lower than from a "
        f"normal start for the four pairings that reach 90 %, {drops[linear]:.1f} for the linear "
        "square loss." in three
    )


def test_network_page_twenty_seed_figures_are_the_command(seeds):
    conditions, costs = seeds
    text = flat(page("network"))
    stall = conditions["sigmoid", "mse", "saturated"]
    lo, hi = stall["epochs_to_90_interval"]
    assert (
        f"reaches 90 % after {stall['epochs_to_90_mean']:.1f} epochs on average (95 % "
        f"t-interval [{lo:.1f}, {hi:.1f}];" in text
    )
    assert (
        f"anywhere from {min(stall['epochs_to_90'])} to {max(stall['epochs_to_90'])}, and costs "
        f"{_cost(costs, 'sigmoid + quadratic', digits=1)} epochs against the normal start" in text
    )
    bce = _cost(costs, "sigmoid + BCE")
    assert f"the start costs it {bce} epochs to 90 %" in text
    assert f"against {_cost(costs, 'sigmoid + quadratic', digits=1).split(' ')[0]} for the" in text
    assert f"The same start costs the sigmoid cross-entropy {bce} epochs" in text


# --- docs/counterpoints.md § 5: `xent-jax calibration --seeds 10` --------------------------------


@pytest.fixture(scope="module")
def calibration_seeds(tmp_path_factory):
    return command(tmp_path_factory, "calibration", "--seeds", "10")


CALIBRATION_NAMES = {
    "ce": "cross-entropy",
    "ce_label_smoothing": "CE, label smoothing 0.1",
    "quadratic": "quadratic (on softmax)",
    "focal": "focal, γ = 2",
}


def _spread(quoted: str, values) -> str:
    """ "m % (lo–hi)" for percentages, with the decimals of the quoted mean."""
    digits = decimals(quoted.split(" ")[0])
    v = 100 * np.asarray(values)
    return f"{v.mean():.{digits}f} % ({v.min():.{digits}f}–{v.max():.{digits}f})"


def test_ten_seed_calibration_table_is_the_command(calibration_seeds):
    result = calibration_seeds
    assert result["seeds"] == list(range(10)) and len(result["per_seed"]) == 10
    text = section(page("counterpoints"), "Over ten seeds", "The fitted T lies")
    effects = {e["name"]: e for e in result["temperature_effect"]}
    assert list(effects) == list(CALIBRATION_NAMES)
    for key, name in CALIBRATION_NAMES.items():
        e = effects[key]
        assert e["seeds"] == 10
        row = [plain(cell) for cell in table_row(text, name)]
        ece = [100 * v for v in (e["ece_change_mean"], *e["ece_change_interval"])]
        assert row == [
            name,
            _spread(row[1], e["ece"]),
            _spread(row[2], e["ece_after"]),
            interval_cell(row[3], *ece, sign="+"),
            f"{e['ece_worse']} of 10",
            interval_cell(row[5], e["nll_change_mean"], *e["nll_change_interval"], sign="+"),
            f"{e['nll_worse']} of 10",
        ], name


def test_ten_seed_calibration_prose_is_the_command(calibration_seeds):
    result = calibration_seeds
    per_seed = [{m["name"]: m for m in seed} for seed in result["per_seed"]]
    text = flat(section(page("counterpoints"), "Over ten seeds", "## 6."))

    def temperatures(*names):
        return [seed[n]["temperature"] for seed in per_seed for n in names]

    smoothed, plain_ones = (
        temperatures("ce_label_smoothing", "focal"),
        temperatures("ce", "quadratic"),
    )
    above = [
        s
        for s, seed in enumerate(per_seed)
        if any(seed[n]["temperature"] > 1 for n in ("ce", "quadratic"))
    ]
    assert len(above) == 2
    assert (
        f"The fitted T lies between {min(smoothed):.2f} and {max(smoothed):.2f} for label "
        f"smoothing and focal loss on every seed; for the cross-entropy and the quadratic loss "
        f"between {min(plain_ones):.2f} and {max(plain_ones):.2f} (above 1 on seeds {above[0]} "
        f"and {above[1]})." in text
    )
    effects = {e["name"]: e for e in result["temperature_effect"]}
    after = [100 * np.mean(effects[n]["ece_after"]) for n in ("ce_label_smoothing", "focal")]
    assert {f"{a:.1f}" for a in after} == {"1.9"}  # both, as the page says
    assert "brings label smoothing and focal loss to an ECE of 1.9 % on average, better" in text
    assert all(effects[n]["ece_worse"] == 0 for n in ("ce_label_smoothing", "focal"))
    ce, quadratic = effects["ce"], effects["quadratic"]
    assert (
        f"On the plain cross-entropy, whose ECE is already {100 * np.mean(ce['ece']):.1f} %, it "
        f"makes the ECE worse on {ce['ece_worse']} of 10 seeds (seed 0:" in text
    )
    seeds = [
        f"seed {s}: {100 * per_seed[s]['ce']['ece']:.2f} → "
        f"{100 * per_seed[s]['ce']['ece_after_temperature']:.2f} %"
        for s in range(3)
    ]
    assert f"({', '.join(seeds)}) and the NLL worse on {ce['nll_worse']};" in text
    q0 = per_seed[0]["quadratic"]
    assert (
        f"on the quadratic loss the NLL worse on {quadratic['nll_worse']} (seed 0: "
        f"{q0['nll']:.4f} → {q0['nll_after_temperature']:.4f}) and the ECE on "
        f"{quadratic['ece_worse']}. Neither mean change differs from 0 at 95 %" in text
    )
    for e in (ce, quadratic):
        for metric in ("ece", "nll"):
            lo, hi = e[f"{metric}_change_interval"]
            assert lo < 0 < hi


# --- docs/counterpoints.md § 6: `xent-jax label-noise` (10 seeds, 150 epochs) --------------------


@pytest.fixture(scope="module")
def label_noise(tmp_path_factory):
    result = command(tmp_path_factory, "label-noise")
    conditions = {(c["loss"], c["rate"]): c for c in result["conditions"]}
    against = {(p["loss"], p["rate"]): p for p in result["against_cross_entropy"]}
    return conditions, against


NOISE_LOSSES = {
    "ce": "cross-entropy",
    "quadratic": "quadratic",
    "mae": "MAE",
    "gce": "GCE, q = 0.7",
}


def _percent_cell(quoted: str, stats, sign: str = "") -> str:
    return "–" if stats is None else interval_cell(quoted, *(100 * v for v in stats), sign=sign)


def test_label_noise_table_is_the_command(label_noise):
    conditions, against = label_noise
    text = section(page("counterpoints"), "## 6.", '"Best" is each seed')
    assert set(conditions) == {(loss, rate) for loss in NOISE_LOSSES for rate in (0.0, 0.2, 0.4)}
    for (loss, rate), c in conditions.items():
        assert c["seeds"] == list(range(10)) and c["learning_rate"] == 0.5
        assert len(c["history"]["test_accuracy"][0]) == 151  # epochs 0 … 150
        row = [plain(cell) for cell in table_row(text, NOISE_LOSSES[loss], f"{100 * rate:.0f} %")]
        paired = against.get((loss, rate))
        assert (paired is None) == (loss == "ce")
        assert row[2:] == [
            _percent_cell(row[2], c["final_test_accuracy_mean"]),
            _percent_cell(row[3], c["best_test_accuracy_mean"]),
            _percent_cell(row[4], c["final_memorised_mean"]),
            _percent_cell(row[5], paired and [paired["mean"], *paired["interval"]], sign="+"),
        ], (loss, rate)


def test_label_noise_prose_is_the_command(label_noise):
    conditions, against = label_noise
    text = flat(section(page("counterpoints"), '"Best" is each seed', "**One neuron"))

    def mean_curve(loss, rate, name):
        return 100 * np.mean(conditions[loss, rate]["history"][name], axis=0)

    def final(loss, rate, name="final_test_accuracy_mean"):
        return 100 * conditions[loss, rate][name][0]

    starts = [mean_curve("ce", rate, "memorised")[0] for rate in (0.2, 0.4)]
    assert all(round(s) == 10 for s in starts) and "(about 10 % at the start" in text
    noisy, mild = mean_curve("ce", 0.4, "test_accuracy"), mean_curve("ce", 0.2, "test_accuracy")
    memorised = mean_curve("ce", 0.4, "memorised")
    peak = int(np.argmax(noisy))
    assert (
        f"its mean test accuracy peaks at {noisy[peak]:.1f} % around epoch {peak} and falls to "
        f"{final('ce', 0.4):.1f} % by epoch 150, while the share of flipped labels it predicts "
        f"as given climbs from {memorised[50]:.1f} % (epoch 50) to "
        f"{final('ce', 0.4, 'final_memorised_mean'):.1f} %" in text
    )
    assert noisy[-1] == pytest.approx(final("ce", 0.4)) and memorised[50] < memorised[-1]
    assert int(np.argmax(mild)) == 20
    assert (
        f"With 20 % noise the same: {mild[20]:.1f} % at epoch 20, {final('ce', 0.2):.1f} % at "
        f"150, {final('ce', 0.2, 'final_memorised_mean'):.1f} % of the flipped labels memorised"
        in text
    )
    gce, quadratic = against["gce", 0.4], against["quadratic", 0.4]
    lo, hi = (100 * v for v in gce["interval"])
    assert (
        f"GCE ends {100 * gce['mean']:.1f} [{lo:.1f}, {hi:.1f}] points above cross-entropy at "
        f"40 % noise (paired by seed) with {final('gce', 0.4, 'final_memorised_mean'):.1f} % "
        f"memorised, the quadratic loss on the softmax {100 * quadratic['mean']:.1f} points "
        f"above with {final('quadratic', 0.4, 'final_memorised_mean'):.1f} %" in text
    )
    clean = [against[loss, 0.0] for loss in ("gce", "quadratic")]
    costs = [f"{-100 * p['mean']:.1f}" for p in clean]
    assert (
        f"On clean labels they cost {costs[0]}–{costs[1]} points (intervals that touch 0)" in text
    )
    assert all(abs(100 * p["interval"][1]) < 0.05 for p in clean)  # the upper end rounds to 0.0
    mae = conditions["mae", 0.0]["final_test_accuracy_mean"]
    assert f"({100 * mae[0]:.1f} % on clean labels, ±5 points across seeds)" in text
    assert round(100 * (mae[2] - mae[1]) / 2) == 5
    mae_lo, mae_hi = against["mae", 0.4]["interval"]
    assert mae_lo < 0 < mae_hi  # "ends no better than cross-entropy"
    best = 100 * conditions["ce", 0.4]["best_test_accuracy_mean"][0]
    gce_final, gce_best = (
        final("gce", 0.4),
        100 * conditions["gce", 0.4]["best_test_accuracy_mean"][0],
    )
    assert (
        f"its best epochs reach {best:.1f} % at 40 % noise, {best - gce_final:.1f} points above "
        f"GCE's final {gce_final:.1f} % and {gce_best - best:.1f} below GCE's best "
        f"{gce_best:.1f} %" in text
    )
