import sys

from xent_jax.cli import main

sys.exit(main())
