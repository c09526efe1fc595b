"""Seeded data augmentation on batches."""

import tensorflow as tf


def random_shift(images: tf.Tensor, max_shift: int, seed: tf.Tensor) -> tf.Tensor:
  """Shifts each image of ``[b, h, w, c]`` by whole pixels in [-max_shift, max_shift].

  Pixels shifted in are 0 (background). The shifts are drawn with a
  stateless op from `seed` (shape ``[2]``), so a batch is augmented the same
  way whenever it is drawn again — on a resumed run, for instance.
  """
  if max_shift == 0:
    return images
  b = tf.shape(images)[0]
  d = tf.random.stateless_uniform([b, 2], seed, minval=-max_shift, maxval=max_shift + 1,
                                  dtype=tf.int32)
  d = tf.cast(d, tf.float32)
  one, zero = tf.ones([b]), tf.zeros([b])
  # Output pixel (x, y) reads input pixel (x + dx, y + dy).
  transforms = tf.stack([one, zero, d[:, 0], zero, one, d[:, 1], zero, zero], axis=1)
  shifted = tf.raw_ops.ImageProjectiveTransformV3(
      images=images, transforms=transforms, output_shape=tf.shape(images)[1:3],
      fill_value=0.0, interpolation="NEAREST", fill_mode="CONSTANT")
  shifted.set_shape(images.shape)  # the raw op forgets the static shape
  return shifted
