"""The explorer's view: Panel widgets and Bokeh figures over :mod:`~xent_jax.explore._state` and
:mod:`~xent_jax.explore._compute`, the same object in a notebook and in ``xent-jax explore``.

How a change flows: a control's new value makes a candidate :class:`ExplorerState`, which is
checked (a bad value puts the command line's one-line message under the control and changes
nothing else); a good one becomes the state and asks for the work it needs (the runs, the atlas
or only a redraw). That work runs once per turn of the server's event loop on the newest state,
so a drag that sends changes faster than they are computed drops the superseded ones instead of
queueing them; outside a server (a test, the benchmark) it runs at once.
"""

import html
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import panel as pn

from xent_jax.core._registry import OPTIMIZERS, loss_title
from xent_jax.errors import InputError
from xent_jax.explore import _compute as compute
from xent_jax.explore._figures import METRIC_TITLES, AtlasFigures, RunFigures, numbers_html
from xent_jax.explore._state import (
    EXPLORED_LOSSES,
    METRICS,
    RESOLUTIONS,
    ExplorerState,
    data_choices,
)
from xent_jax.report.explore import format_reading

TYPED = "typed x:y pairs"  # the data control's entry for the text box
FONT = "16px"  # widgets' text, legible at projector size
RULE_LABELS = {"the true gradient": "autodiff", "the book's rule": "book"}
# what a change of each field needs: computing the runs or the atlas (each then redrawn), or
# only redrawing them
WORK = {
    "w0": frozenset({"runs"}),
    "b0": frozenset({"runs"}),
    "resolution": frozenset({"atlas"}),
    "flow_time": frozenset({"draw_runs", "draw_atlas"}),
    "metric": frozenset({"draw_atlas"}),
    **{
        field: frozenset({"runs", "atlas"})
        for field in ("learning_rates", "one_rate", "epochs", "rule", "optimizer", "data")
    },
}


class Explorer:
    """Both losses trained from one start, beside the atlas of every start, live.

    Args:
      state: where to start (default the seed's saturated start and settings).
      **changes: changes to it (``w0=``, ``epochs=``, ``learning_rate_mse=``, …).

    Attributes:
      state: the :class:`ExplorerState` shown.
      runs: loss -> :class:`~xent_jax.core.Run` shown.
      atlas: the :class:`~xent_jax.explore.Atlas` shown.
      messages: control -> its current error message ("" when none).
      updates: how many times the work was done (each compute and redraw).
      layout: the Panel object displayed (the explorer displays as it).

    Raises:
      InputError: a bad initial state, naming the value.
    """

    def __init__(self, state: ExplorerState | None = None, **changes: Any) -> None:
        self.state = (state or ExplorerState()).replace(**changes).check()
        self.runs: dict[str, Any] = {}
        self.atlas: compute.Atlas | None = None
        self.updates = 0
        self._pending: set[str] = set()
        self._scheduled = self._announced = False
        self._holding = 0
        self._build_controls()
        self.run_figures = RunFigures(EXPLORED_LOSSES)
        self.atlas_figures = AtlasFigures(EXPLORED_LOSSES, self.click)
        self.reading = pn.pane.HTML("", sizing_mode="stretch_width", styles={"font-size": "19px"})
        self.numbers = pn.pane.HTML("", width=380, styles={"font-size": FONT})
        self.notice = pn.pane.HTML("", visible=False, sizing_mode="stretch_width")
        self.layout = self._layout()
        self._pending = {"runs", "atlas"}
        self._flush()

    # --- displaying ------------------------------------------------------------------------

    def __panel__(self) -> pn.viewable.Viewable:
        return self.layout

    def _repr_mimebundle_(self, include=None, exclude=None):
        return self.layout._repr_mimebundle_(include, exclude)

    def servable(self, title: str = "xent-jax explorer") -> pn.viewable.Viewable:
        return self.layout.servable(title=title)

    def tell(self, message: str) -> None:
        """Show a line above the view (a link that could not be read, say); "" hides it."""
        self.notice.object = _error_html(message)
        self.notice.visible = bool(message)

    # --- changing it, as the controls do -------------------------------------------------

    def set(self, **values: Any) -> dict[str, str]:
        """Put values into the controls, as typed (``w0``, ``b0``, ``learning_rate_<loss>``,
        ``one_rate``, ``flow_time``, ``epochs``, ``rule``, ``optimizer``, ``data``, ``metric``,
        ``resolution``); the work they need is done once, after all of them. Returns the error
        messages then shown."""
        with self._hold():
            for name, value in values.items():
                if name == "data":
                    self._set_data(value)
                else:
                    self.controls[name].value = value
        return {k: v for k, v in self.messages.items() if v}

    def click(self, w0: float, b0: float) -> None:
        """A click on the atlas at (w0, b0): the nearest start of its grid becomes the run."""
        if self.atlas is None:  # served, before the first atlas is computed
            return
        w, b = self.atlas.nearest(w0, b0)
        with self._hold():
            self.controls["w0"].value = w
            self.controls["b0"].value = b

    @contextmanager
    def _hold(self) -> Iterator[None]:
        self._holding += 1
        try:
            yield
        finally:
            self._holding -= 1
            if not self._holding and self._pending:
                self._schedule()

    def _set_data(self, value: str) -> None:
        if value in data_choices():
            self.controls["data"].value = value
        else:
            self.controls["pairs"].value = value
            self.controls["data"].value = TYPED

    def _changed(self, field: str, value: Any, control: str | None = None) -> None:
        control = control or field
        candidate = self.state.replace(**{field: value})
        if candidate != self.state:
            try:
                candidate = candidate.check()
            except InputError as error:  # the command line's line; the view stays as it was
                self._say(control, str(error))
                return
        self._say(control, "")
        if candidate == self.state:
            return
        self.state = candidate
        kind = "learning_rates" if field.startswith("learning_rate_") else field
        self._pending |= WORK[kind]
        if not self._holding:
            self._schedule()

    def _schedule(self) -> None:
        if not _served():
            self._flush()
        elif not self._scheduled:  # one flush pending at a time: later changes ride on it
            self._scheduled = True
            pn.state.execute(self._flush, schedule=True)

    def _flush(self) -> None:
        state = self.state
        if _served() and not self._announced and not compute.compiled(state):
            # say so first (sent when this callback returns), then compile on the next turn
            self._announced = True
            self.reading.object = (
                "<p><i>compiling for these settings: a few seconds, once per rule, optimizer, "
                "data size and epoch range…</i></p>"
            )
            pn.state.execute(self._flush, schedule=True)
            return
        self._announced = self._scheduled = False
        todo, self._pending = self._pending, set()
        self.updates += 1
        if "atlas" in todo or self.atlas is None:
            self.atlas = compute.atlas(state)
        if "runs" in todo or not self.runs:
            self.runs = compute.runs(state)
        if todo & {"runs", "draw_runs"}:
            self.run_figures.draw(self.runs, state)
        if todo & {"atlas", "draw_atlas"}:
            self.atlas_figures.draw(self.atlas, state)
        self.atlas_figures.mark(state.w0, state.b0)
        summaries = {loss: run.summary() for loss, run in self.runs.items()}
        reached = self.atlas.reached("half_error")
        line = format_reading(summaries, state.flow_time, reached)
        self.reading.object = f'<p class="xj-reading">{html.escape(line)}</p>'
        self.numbers.object = numbers_html(summaries, self.atlas, state)
        if not _served():  # a notebook's comm sends direct changes of Bokeh models when pushed
            pn.io.push_notebook(self.layout)
        elif pn.state.location is not None:  # served: the URL follows the state
            pn.state.location.search = "?" + state.to_query()

    # --- the controls ----------------------------------------------------------------------

    def _say(self, control: str, message: str) -> None:
        self.messages[control] = message
        pane = self._message_panes[control]
        pane.object = _error_html(message)
        pane.visible = bool(message)

    def _build_controls(self) -> None:
        s = self.state
        slider = {"start": -4.0, "end": 4.0, "step": 0.01, "format": "0.00[0000]"}
        c: dict[str, Any] = {
            "w0": pn.widgets.EditableFloatSlider(label="start weight w0", value=s.w0, **slider),
            "b0": pn.widgets.EditableFloatSlider(label="start bias b0", value=s.b0, **slider),
        }
        for loss in EXPLORED_LOSSES:
            c[f"learning_rate_{loss}"] = pn.widgets.EditableFloatSlider(
                label=f"η, {loss_title(loss)}",
                value=s.learning_rates[loss],
                start=0.001,
                end=1.0,
                step=0.001,
                format="0.000[00]",
            )
        c["one_rate"] = pn.widgets.Checkbox(
            label=f"one η for both (the {loss_title(EXPLORED_LOSSES[0])} one)", value=s.one_rate
        )
        c["flow_time"] = pn.widgets.Checkbox(
            label="compare in flow time τ = η × epochs", value=s.flow_time
        )
        c["epochs"] = pn.widgets.EditableIntSlider(
            label="epochs", value=s.epochs, start=10, end=2000, step=10
        )
        c["rule"] = pn.widgets.RadioButtonGroup(
            label="update rule", options=RULE_LABELS, value=s.rule
        )
        c["optimizer"] = pn.widgets.RadioButtonGroup(
            label="optimizer", options=list(OPTIMIZERS), value=s.optimizer
        )
        builtin = data_choices()
        typed = s.data not in builtin
        c["data"] = pn.widgets.Select(
            label="data set",
            options={**{f"{name}: {about}": name for name, about in builtin.items()}, TYPED: TYPED},
            value=TYPED if typed else s.data,
        )
        c["pairs"] = pn.widgets.TextInput(
            label="your samples, x:y pairs (Enter to train)",
            value=s.data if typed else "",
            placeholder="e.g. 1:0,-1:1,0.5:1",
        )
        c["metric"] = pn.widgets.RadioButtonGroup(
            label="atlas shows",
            options={METRIC_TITLES[m]: m for m in METRICS},
            value=s.metric,
        )
        c["resolution"] = pn.widgets.Select(
            label="atlas starts per axis", options=list(RESOLUTIONS), value=s.resolution
        )
        c[f"learning_rate_{EXPLORED_LOSSES[1]}"].disabled = s.one_rate
        self.controls = c
        self.messages = dict.fromkeys(c, "")
        self._message_panes = {name: pn.pane.HTML("", visible=False, margin=(0, 10)) for name in c}
        for name, widget in c.items():
            widget.css_classes = [f"xj-{name}"]  # how a page reader (the browser test) finds it
            widget.param.watch(lambda event, name=name: self._on_control(name, event.new), "value")

    def _on_control(self, name: str, value: Any) -> None:
        if name in ("data", "pairs"):
            typed = self.controls["data"].value == TYPED
            if not typed and name == "pairs":
                self.controls["data"].value = TYPED  # its watcher trains on the pairs
            elif not typed:
                self._say("pairs", "")
                self._changed("data", value)
            else:
                self._changed("data", self.controls["pairs"].value, control="pairs")
            return
        if name == "one_rate":
            self.controls[f"learning_rate_{EXPLORED_LOSSES[1]}"].disabled = bool(value)
        self._changed(name, value)

    # --- the page --------------------------------------------------------------------------

    def _layout(self) -> pn.viewable.Viewable:
        c = self.controls

        def with_message(*names: str) -> list:
            return [item for name in names for item in (c[name], self._message_panes[name])]

        rates = [f"learning_rate_{loss}" for loss in EXPLORED_LOSSES]
        controls = pn.Column(
            *with_message("w0", "b0", *rates, "one_rate", "flow_time", "epochs"),
            pn.pane.HTML("<b>update rule</b>"),
            *with_message("rule"),
            pn.pane.HTML("<b>optimizer</b>"),
            *with_message("optimizer", "data", "pairs"),
            pn.pane.HTML("<b>atlas shows</b>"),
            *with_message("metric", "resolution"),
            width=340,
        )
        title = pn.pane.HTML(
            "<h2 style='margin:2px 0;font-size:24px'>One sigmoid neuron, quadratic loss against "
            "cross-entropy: both trained live, beside the atlas of every start</h2>",
            sizing_mode="stretch_width",
        )
        main = pn.Column(
            self.reading,
            pn.Row(*(pn.pane.Bokeh(f) for f in self.run_figures.figures)),
            pn.Row(*(pn.pane.Bokeh(f) for f in self.atlas_figures.figures), self.numbers),
        )
        return pn.Column(
            title,
            self.notice,
            pn.Row(controls, main),
            styles={"--bokeh-font-size": FONT, "font-size": FONT},
        )


def explorer(state: ExplorerState | None = None, **changes: Any) -> Explorer:
    """The explorer, ready to display in a notebook (it displays as its Panel layout).

    Args:
      state: where to start (default the seed's saturated start (2, 2) and settings).
      **changes: changes to it: ``w0``, ``b0``, ``learning_rate_mse``, ``learning_rate_ce``,
        ``one_rate``, ``flow_time``, ``epochs``, ``rule``, ``optimizer``, ``data``,
        ``metric``, ``resolution``.

    Returns:
      An :class:`Explorer`.

    Raises:
      InputError: naming a bad value.
    """
    pn.extension()
    return Explorer(state, **changes)


def _served() -> bool:
    """Whether this runs inside a server session (whose event loop runs scheduled work)."""
    doc = pn.state.curdoc
    return doc is not None and doc.session_context is not None


def _error_html(message: str) -> str:
    return f'<span class="xj-error" style="color:#b00020">{html.escape(message)}</span>'


def session() -> pn.viewable.Viewable:
    """One browser session of ``xent-jax explore``: the explorer at the state the URL's query
    describes (a shared link), or at the defaults with a line saying what could not be read."""
    location = pn.state.location
    query = location.search if location is not None else ""
    try:
        state = ExplorerState.from_query(query)
    except InputError as error:
        view = Explorer()
        view.tell(f"this link's settings were not used: {error}")
    else:
        view = Explorer(state)
    return view.layout
