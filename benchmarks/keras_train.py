r"""A plain Keras script: the same model, fit and evaluated on the same arrays.

The yardstick for the whole main job (benchmarks/whole_process.py): what a
Keras user would write to train the seed CNN, timed as a whole process,
start-up included. For example:

  python -m benchmarks.keras_train --dataset=fashion_mnist --epochs=2 \
      --batch_size=500 --optimizer=rmsprop --learning_rate=0.001
"""

import numpy as np
from absl import app, flags

from benchmarks import keras_twin
from experiments import common
from tfcnn.data import pipeline, sources

_DATASET = flags.DEFINE_string("dataset", "mnist_sample", "Dataset (tfcnn's loader).")
_MODEL = flags.DEFINE_string("model", "seed_cnn", "Preset or spec.")
_EPOCHS = flags.DEFINE_integer("epochs", 2, "Epochs.", lower_bound=1)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 500, "Batch size.", lower_bound=1)
_OPTIMIZER = flags.DEFINE_enum("optimizer", "rmsprop", ["adam", "rmsprop"], "Optimiser.")
_LEARNING_RATE = flags.DEFINE_float("learning_rate", 1e-3, "Learning rate.", lower_bound=0.0)
_SEED = flags.DEFINE_integer("seed", 1, "Keras's random seed.", lower_bound=0)


@common.user_errors
def main(argv: list[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  import keras  # the yardstick only
  dataset = sources.load(_DATASET.value)
  train_x = pipeline.scale(dataset.train_images).numpy()
  test_x = pipeline.scale(dataset.test_images).numpy()
  keras.utils.set_random_seed(_SEED.value)
  model = keras_twin.keras_model(_MODEL.value, optimizer=_OPTIMIZER.value,
                                 learning_rate=_LEARNING_RATE.value,
                                 input_shape=train_x.shape[1:])
  model.fit(train_x, dataset.train_labels.astype(np.int32), batch_size=_BATCH_SIZE.value,
            epochs=_EPOCHS.value, verbose=0, shuffle=True)
  loss, accuracy = model.evaluate(test_x, dataset.test_labels.astype(np.int32), verbose=0)
  print(f"{dataset.name}: test accuracy {accuracy:.4f}, test loss {loss:.4f}")


if __name__ == "__main__":
  app.run(main, flags_parser=common.parse_flags)
