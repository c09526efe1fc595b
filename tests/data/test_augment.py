"""Augmentation: whole-pixel shifts, seeded, the same as TensorFlow's image transform."""

import numpy as np
import pytest
import tensorflow as tf

from tfcnn.data import augment


def _transformed(images: tf.Tensor, shifts: tf.Tensor) -> np.ndarray:
  """The reference: TensorFlow's projective transform with those shifts
  (nearest pixel, constant 0 fill), which `augment.shift` replaced."""
  d = tf.cast(shifts, tf.float32)
  one, zero = tf.ones_like(d[:, 0]), tf.zeros_like(d[:, 0])
  transforms = tf.stack([one, zero, d[:, 0], zero, one, d[:, 1], zero, zero], axis=1)
  return tf.raw_ops.ImageProjectiveTransformV3(
      images=images, transforms=transforms, output_shape=tf.shape(images)[1:3],
      fill_value=0.0, interpolation="NEAREST", fill_mode="CONSTANT").numpy()


@pytest.mark.parametrize("dtype", [tf.float32, tf.bfloat16])
@pytest.mark.parametrize("shape", [(40, 7, 9, 1), (6, 5, 4, 3)])
def test_shift_equals_tensorflows_image_transform(dtype, shape):
  rng = np.random.default_rng(0)
  images = tf.cast(rng.uniform(size=shape).astype(np.float32), dtype)
  # Every shift up to 3 pixels, and some larger than the image (all background).
  shifts = tf.constant(rng.integers(-3, 4, (shape[0], 2)).astype(np.int32))
  shifts = tf.concat([shifts, [[9, 0], [0, -12]]], 0)
  images = tf.concat([images, images[:2]], 0)
  got = augment.shift(images, shifts)
  assert got.dtype == dtype and got.shape == images.shape
  want = _transformed(tf.cast(images, tf.float32), shifts)
  np.testing.assert_array_equal(tf.cast(got, tf.float32).numpy(), want)
  assert not np.any(want[-2:])


def test_shift_of_an_empty_batch_is_empty():
  assert augment.shift(tf.zeros([0, 28, 28, 1]), tf.zeros([0, 2], tf.int32)).shape == (0, 28, 28, 1)


def test_random_shift_moves_whole_pixels_and_fills_with_zero():
  image = np.zeros((1, 7, 7, 1), np.float32)
  image[0, 3, 3, 0] = 1.0
  for s in range(5):
    out = augment.random_shift(tf.constant(image), 2, tf.constant([s, 0], tf.int64)).numpy()
    assert out.sum() == 1.0  # moved, not blurred
    y, x = np.argwhere(out[0, :, :, 0])[0]
    assert abs(y - 3) <= 2 and abs(x - 3) <= 2


def test_random_shift_draws_from_its_seed_alone():
  images = tf.constant(np.random.default_rng(1).uniform(size=(16, 8, 8, 1)).astype(np.float32))
  a, b, c = (augment.random_shift(images, 2, tf.constant(s, tf.int64)).numpy()
             for s in ([3, 4], [3, 4], [3, 5]))
  np.testing.assert_array_equal(a, b)
  assert not np.array_equal(a, c)
  np.testing.assert_array_equal(augment.random_shift(images, 0, tf.constant([3, 4], tf.int64)),
                                images)
