"""How far the float32 network figures reproduce when the summation order changes.

docs/counterpoints.md says a seed's first epoch with ≥ 90 % test accuracy can move by one epoch
on another CPU (another float32 summation order), not more. Two orders are available on any
machine: seeds 14–16 of the saturated sigmoid + quadratic start in one vmapped run, and the
same seeds through ``train_network`` one by one (a program without the seed axis). On the
project's machine seed 16 lands one epoch apart between the two (19 against 18).
"""

import pytest

from xent_jax.studies import _network as network
from xent_jax.studies import _network_seeds as network_seeds

SEEDS = range(14, 17)
EPOCHS = 20  # these seeds escape at epochs 15–19


@pytest.mark.slow
def test_a_seeds_epoch_to_90_moves_by_at_most_one_across_summation_orders():
    (batched,) = network_seeds.train_seeds(
        network_seeds.SeedSettings(seeds=len(SEEDS), epochs=EPOCHS, first_seed=SEEDS[0]),
        pairings=[("sigmoid", "mse")],
        starts=["saturated"],
    )
    vmapped = batched.epochs_to(0.9)
    single = [
        network.train_network("mse", "saturated", epochs=EPOCHS, seed=s).first_epoch(
            "test_accuracy", above=0.9
        )
        for s in SEEDS
    ]
    assert None not in vmapped and None not in single, (vmapped, single)
    assert all(abs(a - b) <= 1 for a, b in zip(vmapped, single, strict=True)), (vmapped, single)
