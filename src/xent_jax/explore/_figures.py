"""The explorer's Bokeh figures: the runs' curves (:class:`RunFigures`), the atlas maps
(:class:`AtlasFigures`) and the table of numbers (:func:`numbers_html`).

Each figure is built once and then updated in place (new data in its ``ColumnDataSource``,
a span moved), which is what keeps a change within the explorer's 100 ms: rebuilding a
figure costs more than computing its runs.
"""

import html
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from bokeh.events import Tap
from bokeh.models import ColumnDataSource, LogColorMapper, Range1d
from bokeh.models.annotations import ColorBar, Span, Title  # bokeh.models' stubs omit these
from bokeh.palettes import Viridis256
from bokeh.plotting import figure

from xent_jax.core._metrics import CENSORED
from xent_jax.core._registry import loss_title
from xent_jax.explore._compute import Atlas
from xent_jax.explore._state import ExplorerState, number
from xent_jax.plots.atlas import CENSORED_COLOUR

COLOURS = ("#d95f02", "#1b9e77", "#7570b3", "#e7298a")  # one per explored loss, in order
MARKS = (("takeoff_epoch", "dashed", "takeoff"), ("half_error_epoch", "dotted", "half error"))
METRIC_TITLES = {"half_error": "half-error epoch", "takeoff": "takeoff epoch"}
SIZES = {"title": "18px", "axis": "16px", "ticks": "14px", "legend": "15px"}


def _style(fig: Any) -> Any:
    fig.title.text_font_size = SIZES["title"]
    for axis in (fig.xaxis, fig.yaxis):
        axis.axis_label_text_font_size = SIZES["axis"]
        axis.major_label_text_font_size = SIZES["ticks"]
    fig.toolbar_location = None
    return fig


def colours(losses: tuple[str, ...]) -> dict[str, str]:
    return dict(zip(losses, COLOURS, strict=False))


class RunFigures:
    """The output (or mean error), loss and |∂C̄/∂b| of each loss's run, over epochs or τ,
    its takeoff (dashed) and half-error (dotted) epochs marked."""

    def __init__(self, losses: tuple[str, ...], width: int = 420, height: int = 270) -> None:
        self.losses = losses
        self.colour = colours(losses)
        self.sources = {
            loss: ColumnDataSource({"t": [], "a": [], "c": [], "g": []}) for loss in losses
        }
        titles = ("output a", "loss C̄ (log scale)", "|∂C̄/∂b| (log scale)")
        self.figures = []
        self.spans: dict[tuple[str, str], list[Span]] = {}
        for k, (column, title) in enumerate(zip("acg", titles, strict=True)):
            fig = figure(
                width=width,
                height=height,
                title=title,
                y_axis_type="linear" if column == "a" else "log",
                tools="",
            )
            for loss in losses:
                legend: dict[str, Any] = {"legend_label": loss_title(loss)} if k == 0 else {}
                fig.line(
                    "t",
                    column,
                    source=self.sources[loss],
                    color=self.colour[loss],
                    line_width=3,
                    **legend,
                )
                for field, dash, _ in MARKS:
                    span = Span(
                        location=0,
                        dimension="height",
                        line_color=self.colour[loss],
                        line_dash=dash,
                        line_width=2,
                        visible=False,
                    )
                    fig.add_layout(span)
                    self.spans.setdefault((loss, field), []).append(span)
            self.figures.append(_style(fig))
        legend = self.figures[0].legend[0]
        legend.update(
            label_text_font_size=SIZES["legend"], orientation="horizontal", margin=0, padding=2
        )
        self.figures[0].add_layout(legend, "above")  # outside the curves, whatever they do
        self.notes = [Title(text="dashed: takeoff, dotted: half error"), Title(text="")]
        for fig, note in zip(self.figures[1:], self.notes, strict=True):  # one line above each
            note.text_font_size = SIZES["ticks"]
            fig.add_layout(note, "above")

    def draw(self, runs: Mapping[str, Any], state: ExplorerState) -> None:
        """Put each run's curves in, over epochs or τ = η × epochs."""
        rates = state.rates()
        several = next(iter(runs.values())).settings.samples > 1
        self.figures[0].title.text = "mean error ē = (1/N) Σ|aᵢ − yᵢ|" if several else "output a"
        step = "book's step in b" if state.rule == "book" else "∂C̄/∂b"
        self.figures[2].title.text = f"|{step}| (log scale)"
        plain = state.optimizer == "sgd"
        self.notes[1].text = (
            "b moves by η × this each epoch" if plain else f"what {state.optimizer} is fed"
        )
        for fig in self.figures:
            fig.xaxis.axis_label = "flow time τ = η × epochs" if state.flow_time else "epochs"
        for loss, run in runs.items():
            tr = run.trajectory
            scale = rates[loss] if state.flow_time else 1.0
            self.sources[loss].data = {
                "t": tr.epoch * scale,
                "a": tr.error if several else tr.output,
                "c": tr.loss,
                "g": np.abs(tr.grad_b),
            }
            for field, _, _ in MARKS:
                epoch = getattr(run, field)
                for span in self.spans[(loss, field)]:
                    span.visible = epoch is not None
                    span.location = 0.0 if epoch is None else epoch * scale


class AtlasFigures:
    """Each loss's map of the chosen metric over the grid of starts (log colour, censored starts
    grey), one colour scale for all, the run's start marked; a click calls ``on_click(w0, b0)``."""

    def __init__(self, losses: tuple[str, ...], on_click: Callable[[float, float], None]) -> None:
        self.losses = losses
        self.mapper = LogColorMapper(palette=Viridis256, low=1, high=301, nan_color=CENSORED_COLOUR)
        self.sources = {
            loss: ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []})
            for loss in losses
        }
        self.start = ColumnDataSource({"w0": [0.0], "b0": [0.0]})
        self.figures = []
        self.subtitles = []
        for loss in losses:
            fig = figure(
                width=430,
                height=390,
                tools="",
                x_range=Range1d(start=-4, end=4),
                y_range=Range1d(start=-4, end=4),
                css_classes=[f"xj-atlas-{loss}"],  # how a page reader finds it
            )
            fig.image(
                image="image",
                x="x",
                y="y",
                dw="dw",
                dh="dh",
                source=self.sources[loss],
                color_mapper=self.mapper,  # type: ignore[call-arg]  # bokeh's ImageArgs stub lacks it
            )
            fig.scatter(
                "w0",
                "b0",
                source=self.start,
                marker="circle_x",
                size=22,
                fill_alpha=0,
                line_color="#e41a1c",
                line_width=3,
            )
            fig.xaxis.axis_label = "start weight w0"
            fig.yaxis.axis_label = "start bias b0"
            subtitle = Title(text="", text_font_size=SIZES["ticks"], text_font_style="normal")
            fig.add_layout(subtitle, "above")
            fig.on_event(Tap, lambda event: on_click(event.x, event.y))
            self.subtitles.append(subtitle)
            self.figures.append(_style(fig))
        self.colour_bar = ColorBar(
            color_mapper=self.mapper, major_label_text_font_size=SIZES["ticks"], width=14
        )
        self.figures[-1].add_layout(self.colour_bar, "right")

    def draw(self, atlas: Atlas, state: ExplorerState) -> None:
        """The state's metric, 1 + epoch (or η × (1 + epoch)) so that epoch 0 has a colour."""
        rates = state.rates()
        spec = atlas.spec
        # the grid's points are the cells' centres, ends included: a cell is a step wide
        (w_lo, w_hi), (b_lo, b_hi) = spec.w_range, spec.b_range
        half_w = (w_hi - w_lo) / (spec.resolution_w - 1) / 2
        half_b = (b_hi - b_lo) / (spec.resolution_b - 1) / 2
        box = {
            "x": [w_lo - half_w],
            "y": [b_lo - half_b],
            "dw": [w_hi - w_lo + 2 * half_w],
            "dh": [b_hi - b_lo + 2 * half_b],
        }
        unit = "τ = η × (epoch + 1)" if state.flow_time else "epoch + 1"
        for fig in self.figures:
            fig.x_range.update(start=w_lo - half_w, end=w_hi + half_w)
            fig.y_range.update(start=b_lo - half_b, end=b_hi + half_b)
        censored = f"click a start to run it; grey: censored (not within {state.epochs} epochs)"
        for fig, subtitle, loss in zip(self.figures, self.subtitles, self.losses, strict=True):
            epochs = atlas.field(state.metric)[loss]
            scale = rates[loss] if state.flow_time else 1.0
            shown = np.where(epochs == CENSORED, np.nan, (epochs + 1.0) * scale)
            self.sources[loss].data = {"image": [shown.astype(np.float32)], **box}
            metric = METRIC_TITLES[state.metric]
            fig.title.text = f"{loss_title(loss)}, η = {number(rates[loss])}: {metric}"
            subtitle.text = censored
        top = max(rates.values()) if state.flow_time else 1.0
        low = min(rates.values()) if state.flow_time else 1.0
        self.mapper.update(low=low, high=(state.epochs + 1) * top)
        self.colour_bar.title = f"{unit}, log scale"

    def mark(self, w0: float, b0: float) -> None:
        self.start.data = {"w0": [w0], "b0": [b0]}


def _epoch(epoch: int | None, summary: Mapping[str, Any], state: ExplorerState) -> str:
    if epoch is None:
        return "censored"
    tau = epoch * summary["learning_rate"]
    return f"{epoch} (τ = {tau:.4g})" if state.flow_time else str(epoch)


def numbers_html(
    summaries: Mapping[str, Mapping[str, Any]], atlas: Atlas, state: ExplorerState
) -> str:
    """The run's start and each loss's numbers as an HTML table, one column per loss; each
    number's cell carries ``data-loss`` and ``data-field`` for whoever reads the page (the
    browser test does)."""
    several = next(iter(summaries.values()))["samples"] > 1
    rows = (
        ("learning_rate", "η", lambda s: number(s["learning_rate"])),
        ("takeoff_epoch", "takeoff epoch", lambda s: _epoch(s["takeoff_epoch"], s, state)),
        ("half_error_epoch", "half-error epoch", lambda s: _epoch(s["half_error_epoch"], s, state)),
        (
            "final_output",
            "final mean output" if several else "final output",
            lambda s: f"{np.mean(s['final_output']):.4f}",
        ),
        ("final_loss", "final loss", lambda s: f"{s['final_loss']:.4g}"),
    )
    head = "".join(f"<th>{html.escape(loss_title(loss))}</th>" for loss in summaries)
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(title)}</th>"
        + "".join(
            f'<td data-loss="{loss}" data-field="{field}">{html.escape(show(s))}</td>'
            for loss, s in summaries.items()
        )
        + "</tr>"
        for field, title, show in rows
    )
    w0, b0 = state.w0, state.b0
    on_grid = atlas.nearest(w0, b0) == (w0, b0)
    where = "a start of the atlas's grid" if on_grid else "between the atlas's grid points"
    return (
        f'<p>start (w0, b0) = (<span data-field="w0">{number(w0)}</span>, '
        f'<span data-field="b0">{number(b0)}</span>),<br>{where}; {state.epochs} epochs</p>'
        f'<table class="xj-numbers" style="border-spacing:10px 2px"><tr><th></th>{head}</tr>'
        f"{body}</table>"
    )
