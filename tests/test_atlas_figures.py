"""The atlas figures say what they show (issue 20, item 11): one unit (τ) on every colour bar,
the seed's starts only on the seed's maps, a built-in set named, survival from 100 %, TeX that
renders, and a legend that hides no cell."""

import matplotlib.mathtext
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.lines import Line2D

from xent_jax import sweep as S
from xent_jax.core import _seed as seed
from xent_jax.plots import atlas as plots
from xent_jax.plots import flow as flow_plots
from xent_jax.studies import _flow as flow


@pytest.fixture(scope="module")
def one_sample():
    """The seed's one-sample atlas, small: the quadratic loss censors its saturated corner."""
    return S.sweep(resolution=24, epochs=300)


@pytest.fixture(scope="module")
def on_data():
    return S.sweep(resolution=24, epochs=120, data="separable")


def _maps(fig):
    return [ax for ax in fig.axes if ax.images]


def _red_markers(ax) -> int:
    return sum(1 for line in ax.lines if isinstance(line, Line2D) and line.get_mec() == "red")


def _colour_bar_labels(fig) -> list[str]:
    return [ax.get_ylabel() for ax in fig.axes if not ax.images and "τ" in ax.get_ylabel()]


@pytest.mark.slow
@pytest.mark.parametrize("which", ["one_sample", "on_data"])
def test_every_map_is_coloured_in_flow_time(which, request):
    result = request.getfixturevalue(which)
    fig = plots.atlas_figure(result)
    maps = _maps(fig)
    assert maps
    norms = {(m.images[0].norm.vmin, m.images[0].norm.vmax) for m in maps}
    assert len(norms) == 1  # one scale for every map of the figure
    for ax in maps:
        image = ax.images[0]
        loss = "mse" if "quadratic" in ax.get_title() else "ce"
        field = "half_error_epoch" if "half-error" in ax.get_title() else "takeoff_epoch"
        epochs = getattr(result.metrics[loss], field)
        eta = result.config["learning_rates"][loss]
        shown = image.get_array()
        np.testing.assert_array_equal(np.ma.getmaskarray(shown), epochs < 0)
        np.testing.assert_allclose(shown[epochs >= 0], eta * (epochs[epochs >= 0] + 1))
    labels = [fig.axes[-1].get_ylabel(), *(ax.get_ylabel() for ax in fig.axes)]
    assert any("flow time τ = η × (epoch + 1)" in label for label in labels)
    assert not any("epochs, log scale" in label for label in labels)


def test_the_optimizer_atlas_is_in_flow_time_too(one_sample):
    fig = plots.optimizer_figure({"sgd": one_sample, "again": one_sample})
    bar = [ax for ax in fig.axes if not ax.images][-1]
    assert "flow time τ" in bar.get_ylabel()


@pytest.mark.slow
def test_the_seeds_starts_mark_only_the_seeds_maps(one_sample, on_data):
    seed_maps = _maps(plots.atlas_figure(one_sample))
    assert all(_red_markers(ax) == len(seed.STARTS) for ax in seed_maps)
    data_figure = plots.atlas_figure(on_data)
    assert all(_red_markers(ax) == 0 for ax in _maps(data_figure))
    labels = [t.get_text() for legend in data_figure.legends for t in legend.get_texts()]
    assert labels and not any("seed start" in label for label in labels)
    other = S.sweep(resolution=8, epochs=20, x=2.0)  # one sample, not the seed's
    assert all(_red_markers(ax) == 0 for ax in _maps(plots.atlas_figure(other)))


def test_a_built_in_set_is_named_in_the_title(on_data):
    title = plots.atlas_figure(on_data)._suptitle.get_text()
    assert "(separable)" in title
    custom = S.sweep(resolution=8, epochs=20, data="-1:0,2:1")
    assert "x:y = -1:0, 2:1" in plots.atlas_figure(custom)._suptitle.get_text()


@pytest.mark.parametrize("which", ["one_sample", "on_data"])
def test_the_legend_hides_no_cell(which, request):
    """The issue's case: the legend sat over the seed atlas's censored corner."""
    fig = plots.atlas_figure(request.getfixturevalue(which))
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    legends = list(fig.legends)
    assert legends and not any(ax.get_legend() for ax in _maps(fig))
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in _maps(fig):
            assert not box.overlaps(ax.get_window_extent(renderer))


def test_survival_curves_start_at_one(on_data):
    eta, epochs = on_data.config["learning_rates"]["ce"], on_data.config["epochs"]
    curves = {
        loss: S.survival_curve(m.half_error_epoch, eta, epochs)
        for loss, m in on_data.metrics.items()
    }
    ax = plots.survival_figure(curves, "separable").axes[0]
    for line in ax.lines:
        x, y = line.get_data()
        assert y[0] == 1.0 and x[0] > 0  # 100 % at the left edge of the log axis
        assert np.all(np.diff(y) <= 0)


def test_the_escape_figure_renders_its_tex():
    fig = flow_plots.escape_figure(flow.escape_curves(np.linspace(-2, 8, 11)))
    texts = [t.get_text() for ax in fig.axes for t in (ax.yaxis.label, ax.xaxis.label)]
    texts += [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().texts]
    parser = matplotlib.mathtext.MathTextParser("path")
    for text in texts:
        assert "^{" not in "".join(text.split("$")[0::2]), text  # TeX only inside $…$
        if "$" in text:
            assert text.count("$") % 2 == 0
            for part in text.split("$")[1::2]:
                parser.parse(f"${part}$")  # raises on TeX that does not render
    assert any("$e^{z_0}/(z_0 + 1)$" == t for t in texts)
    FigureCanvasAgg(fig).draw()
