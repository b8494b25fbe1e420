"""Figures for the softmax cross-entropy: the silent bugs' stall."""

from matplotlib.figure import Figure

from xent_jax.softmax._bugs import MODE_TITLES


def bugs_figure(result: dict) -> Figure:
    """Loss, gradient norm and accuracy per epoch for the three runs of ``train_three_ways``.

    Args:
      result: the dict returned by :func:`xent_jax.softmax._bugs.train_three_ways`.

    Returns:
      A figure with three panels; the loss panel marks the bugs' floor log(1 + (C − 1)/e).
    """
    figure = Figure(figsize=(13, 4), layout="constrained")
    loss_ax, grad_ax, acc_ax = figure.subplots(1, 3)
    for mode, run in result["runs"].items():
        history = run["history"]
        epochs = range(1, len(history.loss) + 1)
        label = MODE_TITLES[mode]
        loss_ax.plot(epochs, history.loss, label=label)
        grad_ax.plot(epochs, history.grad_norm, label=label)
        acc_ax.plot(epochs, history.accuracy, label=label)
    loss_ax.axhline(
        result["loss_floor"],
        color="grey",
        linestyle="--",
        label=f"bugs' floor log(1 + (C − 1)/e) = {result['loss_floor']:.3f}",
    )
    loss_ax.set(title="Loss being minimised", xlabel="epochs (full batch)", ylabel="loss (nats)")
    grad_ax.set(
        title="Gradient norm ‖∂loss/∂(W, b)‖",
        xlabel="epochs (full batch)",
        ylabel="global L2 norm (nats per unit weight)",
        yscale="log",
    )
    acc_ax.set(title="Training accuracy", xlabel="epochs (full batch)", ylabel="fraction correct")
    for ax in (loss_ax, grad_ax, acc_ax):
        ax.legend(fontsize="small")
    figure.suptitle(
        f"Softmax classifier, {result['num_classes']} classes, SGD η = {result['learning_rate']:g}:"
        " the silent bugs stall above a floor"
    )
    return figure
