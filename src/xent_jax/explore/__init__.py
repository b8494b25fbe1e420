"""The explorer: both losses trained live from a start you pick, and the atlas of every start.

One code path for the notebook and the browser: :func:`explorer` returns a displayable object,
and ``xent-jax explore`` serves the same view as a local web app.

- ``_state``: :class:`ExplorerState`, every control's value, checked as the command line checks
  it, and its URL query (JAX-free, UI-free);
- ``_compute``: the numbers, from :func:`xent_jax.core.train` and the sweep's compiled runner,
  compiled once per static setting (JAX, no UI);
- ``_app``: the view (Panel on Bokeh, the ``explore`` extra), imported on first use.

Names are imported on first use (:mod:`xent_jax._lazy`).
"""

from typing import TYPE_CHECKING

from xent_jax import _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    {
        "xent_jax.explore._app": ["Explorer", "explorer"],
        "xent_jax.explore._compute": ["Atlas", "atlas", "epoch_bucket", "runs", "truncate"],
        "xent_jax.explore._state": ["MAX_EPOCHS", "ExplorerState"],
    },
)

if TYPE_CHECKING:
    from xent_jax.explore._app import Explorer, explorer
    from xent_jax.explore._compute import Atlas, atlas, epoch_bucket, runs, truncate
    from xent_jax.explore._state import MAX_EPOCHS, ExplorerState
