"""absl experiment scripts: train, reproducibility, visualize.

Importing the package imports TensorFlow without its start-up chatter
(:mod:`experiments.quiet`), before any script's own imports do.
"""

from experiments import quiet

quiet.import_tensorflow()
