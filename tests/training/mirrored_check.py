"""Mirrored (2 logical CPUs) against single-device training; prints JSON (tests only).

Run as a program: the CPU must be split before TensorFlow starts, which a
pytest process that already ran other tests cannot do.
"""

import dataclasses
import json
import sys

import numpy as np
import tensorflow as tf

from tfcnn import training
from tfcnn.data import pipeline, sources
from tfcnn.training import distribute

distribute.split_cpu(2)
mirrored = distribute.make_strategy("mirrored")
config = training.TrainConfig(model="conv8k3-maxpool2-conv8k3-flatten-dense16-dense10",
                              batch_size=64, seed=11, augment_shift=0, lr_schedule="constant",
                              micro_batch_size=0, l2=1e-4, epochs=1, train_limit=2048,
                              test_limit=1000)
data = sources.load("mnist_sample")
images, labels = data.train_images[:2048], data.train_labels[:2048]

# One step on the same global batch.
single = training.Trainer(config, (28, 28, 1), 1)
multi = training.Trainer(config, (28, 28, 1), 1, strategy=mirrored)
order = tf.constant(pipeline.epoch_order(2048, config.seed, 0))
x, y = pipeline.make_batch(tf.constant(images), tf.constant(labels.astype(np.int32)), order, 0, 64)
single.train_step(x, y)
iterator = iter(distribute.distributed_batches(mirrored, images, labels, 64, config.seed, 0, 0, 0))
multi.distributed_steps(iterator, tf.constant(1, tf.int64))
# The same under XLA (each replica's forward and backward pass one XLA computation).
multi_xla = training.Trainer(dataclasses.replace(config, jit_compile=True), (28, 28, 1), 1,
                             strategy=mirrored)
iterator = iter(distribute.distributed_batches(mirrored, images, labels, 64, config.seed, 0, 0, 0))
multi_xla.distributed_steps(iterator, tf.constant(1, tf.int64))


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
