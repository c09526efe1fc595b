"""Activation maximisation, receptive-field crops and top patches."""

import numpy as np
import pytest
import tensorflow as tf

import tfcnn
from tfcnn import geometry, layers, visualize


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  """A small CNN trained briefly on the sample (a few seconds)."""
  workdir = tmp_path_factory.mktemp("vis")
  config = tfcnn.TrainConfig(model="conv8k3-maxpool2-conv8k3-flatten-dense10", epochs=1,
                             train_limit=1024, test_limit=300, seed=1)
  tfcnn.train(config, workdir)
  net = tfcnn.training.load_model(workdir)
  test = tfcnn.data.pipeline.scale(tfcnn.data.load("mnist_sample").test_images[:300]).numpy()
  return net, test


def test_activation_max_beats_the_test_sets_best_image_and_far_beats_noise(trained):
  # The claim we test: on a trained net, the synthetic image activates most filters
  # of the first conv layer more than the best of 300 real test images does, and
  # every live filter several times more than the best of 300 uniform-noise images.
  # Dead filters (never positive on the test set) are excluded: nothing excites them.
  net, test = trained
  images, achieved = visualize.maximize(net, 0, visualize.MaximizeConfig(steps=150, seed=3))
  assert images.shape == (8, 28, 28, 1) and images.min() >= 0 and images.max() <= 1
  best = visualize.best_dataset_activation(net, 0, test)
  noise = np.random.default_rng(0).uniform(size=(300, 28, 28, 1)).astype(np.float32)
  best_noise = visualize.best_dataset_activation(net, 0, noise)
  live = best > 1e-6
  assert live.sum() >= 4
  assert np.mean(achieved[live] > best[live]) >= 0.75
  assert np.all(achieved[live] > 1.5 * best_noise[live])


def test_activation_max_is_reproducible_from_its_seed(trained):
  net, _ = trained
  config = visualize.MaximizeConfig(steps=20, seed=5)
  a, _ = visualize.maximize(net, 2, config)
  b, _ = visualize.maximize(net, 2, config)
  c, _ = visualize.maximize(net, 2, visualize.MaximizeConfig(steps=20, seed=6))
  np.testing.assert_array_equal(a, b)
  assert not np.array_equal(a, c)
  with pytest.raises(ValueError, match="parameterization"):
    visualize.maximize(net, 0, visualize.MaximizeConfig(parameterization="wavelet"))


def test_filter_objective_is_each_images_own_filter():
  net = tfcnn.Sequential([layers.Conv2D(3, 1, use_bias=False)], seed=0)
  net.build((4, 4, 1))
  net.layers[0].kernel.assign(tf.reshape([1.0, 2.0, 3.0], [1, 1, 1, 3]))
  images = tf.stack([tf.fill([4, 4, 1], v) for v in (1.0, 10.0, 100.0)])
  np.testing.assert_allclose(visualize.filter_objective(net, 0, images).numpy(),
                             [1.0, 20.0, 300.0], rtol=1e-6)


def test_receptive_field_crops_on_a_hand_built_model():
  # conv3 (valid) → maxpool2 → conv3: rf 8, jump 2, node (0, 0) centred on 3.5,
  # so node (r, c) covers rows 2r .. 2r+7 and columns 2c .. 2c+7.
  net = tfcnn.Sequential([layers.Conv2D(2, 3), layers.MaxPool2D(2), layers.Conv2D(2, 3)])
  net.build((20, 20, 1))
  row = geometry.layer_geometry(net.layers, (20, 20, 1))[2]
  assert (row.receptive_field, row.jump, row.start) == (8, 2, 3.5)
  assert visualize.receptive_box(1, 2, 8, 2, 3.5) == (2, 4, 10, 12)
  image = np.arange(400, dtype=np.float32).reshape(20, 20, 1)
  np.testing.assert_array_equal(visualize.crop(image, (2, 4, 10, 12)), image[2:10, 4:12])
  # Same padding reaches outside the image: zero-filled.
  np.testing.assert_array_equal(visualize.crop(image, (-1, -1, 2, 2))[0], 0)
  np.testing.assert_array_equal(visualize.crop(image, (-1, -1, 2, 2))[1:, 1:], image[:2, :2])


def test_top_patches_are_the_crops_at_the_highest_activations():
  net = tfcnn.Sequential([layers.Conv2D(1, 3, use_bias=False), layers.MaxPool2D(2)])
  net.build((10, 10, 1))
  net.layers[0].kernel.assign(tf.ones([3, 3, 1, 1]))      # sums a 3x3 window
  images = np.zeros((3, 10, 10, 1), np.float32)
  images[1, 4:7, 6:9] = 1.0                                # a bright 3x3 square
  crops, acts, positions = visualize.top_patches(net, 1, images, k=2)
  assert crops.shape == (1, 2, 4, 4, 1)
  image, r, c = positions[0][0]
  assert image == 1 and acts[0, 0] == pytest.approx(9.0)
  top, left, bottom, right = visualize.receptive_box(r, c, 4, 2, 1.5)
  np.testing.assert_array_equal(crops[0, 0], images[1, top:bottom, left:right])
