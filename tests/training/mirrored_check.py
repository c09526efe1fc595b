"""Mirrored (2 logical CPUs) against single-device training; prints JSON (tests only).

Run as a program: the CPU must be split before TensorFlow starts, which a
pytest process that already ran other tests cannot do.
"""

import functools
import json
import sys

import numpy as np
import tensorflow as tf

from tfcnn import fast, training
from tfcnn.data import pipeline, sources
from tfcnn.training import distribute

distribute.split_cpu(2)
mirrored = distribute.make_strategy("mirrored")
config = training.TrainConfig(model="conv8k3-maxpool2-conv8k3-flatten-dense16-dense10",
                              batch_size=64, seed=11, augment_shift=0, lr_schedule="constant",
                              l2=1e-4, epochs=1, train_limit=2048, test_limit=1000)
data = sources.load("mnist_sample")
images, labels = data.train_images[:2048], data.train_labels[:2048]

# One step on the same global batch.
single = training.TrainState(config, (28, 28, 1), 1)
order = tf.constant(pipeline.epoch_order(2048, config.seed, 0))
x, y = pipeline.make_batch(tf.constant(images), tf.constant(labels.astype(np.int32)), order, 0, 64)
tf.function(functools.partial(training.train_step, single))(x, y)
multi = training.TrainState(config, (28, 28, 1), 1, strategy=mirrored)
fast.make_runner(multi, training.RunConfig(), images, labels).run(0, 0, 1)
# The same under XLA (each replica's units one XLA computation each).
multi_xla = training.TrainState(config, (28, 28, 1), 1, strategy=mirrored)
fast.make_runner(multi_xla, training.RunConfig(jit_compile=True), images, labels).run(0, 0, 1)


def max_relative_difference(a_variables, b_variables) -> float:
  return max(float(np.max(np.abs(a.numpy() - b.numpy())) / max(np.max(np.abs(a.numpy())), 1e-12))
             for a, b in zip(a_variables, b_variables))


relative = max_relative_difference(single.model.variables, multi.model.variables)
relative_xla = max_relative_difference(single.model.variables, multi_xla.model.variables)

# One epoch each, through train().
workdir = sys.argv[1]
one = training.train(config, f"{workdir}/single", dataset=data)
two = training.train(config, f"{workdir}/mirrored", dataset=data, strategy=mirrored)
print(json.dumps({"replicas": mirrored.num_replicas_in_sync, "max_relative_difference": relative,
                  "max_relative_difference_xla": relative_xla,
                  "single_accuracy": one["test_accuracy"], "mirrored_accuracy": two["test_accuracy"],
                  "mirrored_replicas_in_results": two["replicas"]}))
