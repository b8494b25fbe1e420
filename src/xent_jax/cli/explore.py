"""``xent-jax explore``: the explorer as a local web app (Panel's server, on Bokeh's).

The page is the notebook's explorer (:mod:`xent_jax.explore`), one per browser tab, its state in
the URL's query. It listens on 127.0.0.1 unless ``--host`` says otherwise; a port in use is one
line and status 2; Ctrl-C stops the server and exits with 130.
"""

import argparse
import errno
import logging
import signal
import webbrowser

from xent_jax.errors import InputError

DEFAULT_PORT = 5006  # Panel's and Bokeh's own default
LOCAL = "127.0.0.1"
POLL_MS = 100  # how often the server looks for a Ctrl-C


def register(commands: argparse._SubParsersAction) -> None:
    explore = commands.add_parser(
        "explore",
        help="the explorer in the browser: both losses trained live, and the atlas of starts",
        description="A local web app: pick a start, η, epochs, rule, optimizer and data set and "
        "see both losses train from it, beside the (w0, b0) atlas of half-error and takeoff "
        "epochs, recomputed as you drag; click the atlas to run a start. The URL holds the "
        "settings, so a link shares them. Needs the explore extra: pip install "
        "'xent-jax[explore]'.",
    )
    explore.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        metavar="P",
        help=f"port to listen on (default {DEFAULT_PORT})",
    )
    explore.add_argument(
        "--host",
        default=LOCAL,
        metavar="H",
        help=f"address to listen on (default {LOCAL}: this machine only; 0.0.0.0 opens it to "
        "the network)",
    )
    explore.add_argument(
        "--no-browser", action="store_true", help="do not open the page in a browser"
    )
    explore.set_defaults(run=run_explore)


def run_explore(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        raise InputError(f"port must be 1 to 65535, got {args.port}")
    import panel as pn  # present: main() checked the explore extra (cli/_extras)
    from tornado.ioloop import PeriodicCallback

    from xent_jax._devices import use_all_cpu_cores
    from xent_jax.cli._interrupt import interrupt_requested

    use_all_cpu_cores()  # before JAX's first computation: the atlas shards over the cores
    from xent_jax.explore import _compute as compute
    from xent_jax.explore._app import session
    from xent_jax.explore._state import ExplorerState

    for name in ("bokeh", "tornado", "panel"):  # one line per event is ours to print
        logging.getLogger(name).setLevel(logging.ERROR)
    host, port = args.host, args.port
    origins = [f"{name}:{port}" for name in ("localhost", LOCAL, host)]
    if host in ("0.0.0.0", "::"):
        origins.append(f"*:{port}")
    ctrl_c = signal.getsignal(signal.SIGINT)
    try:
        server = pn.serve(
            {"/": session},
            port=port,
            address=host,
            websocket_origin=origins,
            show=False,
            start=False,
            title="xent-jax explorer",
            verbose=False,
        )
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise InputError(
                f"port {port} is in use on {host}: choose another with --port"
            ) from None
        if error.errno == errno.EADDRNOTAVAIL:
            raise InputError(f"cannot listen on {host!r}: not an address of this machine") from None
        raise
    signal.signal(signal.SIGINT, ctrl_c)  # Panel installs its own; Ctrl-C is the command line's
    default = ExplorerState()  # compiled before the page is offered: the first view is quick
    compute.runs(default)
    compute.atlas(default)
    url = f"http://{'localhost' if host in ('0.0.0.0', '::') else host}:{port}/"
    print(f"xent-jax explore: serving {url} (Ctrl-C to stop)", flush=True)
    if not args.no_browser:
        webbrowser.open(url)

    def stop_on_ctrl_c() -> None:
        if interrupt_requested():
            server.io_loop.stop()

    PeriodicCallback(stop_on_ctrl_c, POLL_MS).start()
    server.start()
    server.io_loop.start()
    return 0  # after Ctrl-C: main exits with 130 and its one line
