"""Saliency and Grad-CAM on networks whose answer can be written down."""

import numpy as np
import tensorflow as tf

import tfcnn
from tfcnn import layers, visualize


def test_saliency_of_a_linear_model_is_its_weight_map():
  net = tfcnn.Sequential([layers.Flatten(), layers.Dense(3)], seed=1)
  net.build((4, 5, 1))
  images = np.random.default_rng(0).uniform(size=(2, 4, 5, 1)).astype(np.float32)
  result = visualize.saliency(net, images, [2, 0])
  for j, c in enumerate([2, 0]):
    want = np.abs(net.layers[1].kernel.numpy()[:, c]).reshape(4, 5)
    np.testing.assert_allclose(result[j], want / want.max(), rtol=1e-5)


def test_grad_cam_of_one_filter_feeding_positive_weights_is_its_map():
  conv = layers.Conv2D(1, 3, activation="relu")
  net = tfcnn.Sequential([conv, layers.Flatten(), layers.Dense(2)], seed=2)
  net.build((8, 8, 1))
  net.layers[2].kernel.assign(tf.ones_like(net.layers[2].kernel))   # evidence = the map itself
  images = np.random.default_rng(1).uniform(size=(1, 8, 8, 1)).astype(np.float32)
  cam = visualize.grad_cam(net, 0, images, [1])
  maps = conv(tf.constant(images))[..., :1]
  want = tf.image.resize(maps, (8, 8), method="bilinear")[0, ..., 0].numpy()
  np.testing.assert_allclose(cam[0], want / want.max(), rtol=1e-5, atol=1e-6)
  assert cam.shape == (1, 8, 8) and cam.min() >= 0.0


def test_explained_figure_is_a_png():
  from tfcnn.visualize import explained
  image = np.zeros((10, 10, 1), np.float32)
  png = explained.figure(image, "3", "5", 0.6, np.zeros((10, 10)), np.ones((10, 10)), "conv_0",
                         [("conv_0", np.random.default_rng(0).uniform(size=(8, 8, 4)))])
  assert png[:8] == b"\x89PNG\r\n\x1a\n"
  decoded = tf.image.decode_png(png)
  assert decoded.shape[0] > 200 and decoded.shape[1] > 400
