"""One's own data: arrays in memory and npz files, any image shape, any class count."""

import json

import numpy as np
import pytest

import tfcnn
from tfcnn.data import arrays
from tfcnn.errors import ConfigError, DataError


def _rgb(n, seed=0):
  rng = np.random.default_rng(seed)
  return rng.integers(0, 256, (n, 12, 10, 3), dtype=np.uint8), rng.integers(0, 4, n)


def test_arrays_of_any_shape_become_a_dataset():
  (x, y), (xt, yt) = _rgb(40), _rgb(10, 1)
  ds = arrays.from_arrays(x, y, xt, yt, class_names=["a", "b", "c", "d"], name="mine")
  assert ds.image_shape == (12, 10, 3) and ds.class_names == ("a", "b", "c", "d")
  assert ds.train_labels.dtype == np.uint8 and not ds.verified
  grey = arrays.from_arrays(x[..., 0], y, xt[..., 0], yt)
  assert grey.image_shape == (12, 10, 1) and len(grey.class_names) == 4


@pytest.mark.parametrize("mutate, message", [
    (lambda a: {**a, "x_train": a["x_train"].astype(np.float32)}, "must be uint8"),
    (lambda a: {**a, "y_train": a["y_train"][:-1]}, "40 images but 39 labels"),
    (lambda a: {**a, "x_test": a["x_test"][:, :6]}, "train images are"),
    (lambda a: {**a, "y_test": a["y_test"] - 5}, "labels must lie in 0..255"),
])
def test_bad_arrays_are_named(mutate, message, tmp_path):
  (x, y), (xt, yt) = _rgb(40), _rgb(10, 1)
  bad = mutate({"x_train": x, "y_train": y, "x_test": xt, "y_test": yt})
  np.savez(tmp_path / "bad.npz", **bad)
  with pytest.raises(DataError, match=message):
    arrays.load_npz(tmp_path / "bad.npz")


def test_an_npz_needing_pickle_is_refused(tmp_path):
  (x, y), (xt, yt) = _rgb(10), _rgb(5, 1)
  np.savez(tmp_path / "p.npz", x_train=x, y_train=y, x_test=xt, y_test=yt,
           class_names=np.array([{"evil": 1}], dtype=object))
  with pytest.raises(DataError, match="not a readable npz of plain arrays"):
    arrays.load_npz(tmp_path / "p.npz")
  with pytest.raises(DataError, match="needs arrays x_train"):
    np.savez(tmp_path / "q.npz", images=x)
    arrays.load_npz(tmp_path / "q.npz")


def test_training_on_an_rgb_npz_records_the_shape_so_load_model_needs_none(tmp_path):
  (x, y), (xt, yt) = _rgb(64), _rgb(16, 1)
  np.savez(tmp_path / "mine.npz", x_train=x, y_train=y, x_test=xt, y_test=yt)
  config = tfcnn.TrainConfig(model="conv4k3-maxpool2-flatten-dense4", epochs=1,
                             dataset=f"npz:{tmp_path / 'mine.npz'}")
  results = tfcnn.train(config, tmp_path / "run", progress=False)
  recorded = json.loads((tmp_path / "run" / "config.json").read_text())["data"]
  assert recorded == {"input_shape": [12, 10, 3], "num_classes": 4,
                      "class_names": ["0", "1", "2", "3"]}
  model = tfcnn.load_model(tmp_path / "run")
  assert model.input_shape == (12, 10, 3)
  import tensorflow as tf
  served = tf.saved_model.load(str(tmp_path / "run" / "saved_model"))
  out = served.signatures["serving_default"](images=tf.zeros([2, 12, 10, 3]))
  assert list(out.values())[0].shape[-1] == 4
  assert results["dataset"] == config.dataset


def test_in_memory_data_must_be_the_dataset_the_config_names(tmp_path):
  (x, y), (xt, yt) = _rgb(64), _rgb(16, 1)
  mine = arrays.from_arrays(x, y, xt, yt, name="mine")
  config = tfcnn.TrainConfig(model="conv4k3-maxpool2-flatten-dense4", epochs=1)
  with pytest.raises(ConfigError, match="set TrainConfig\\(dataset='mine'\\)"):
    tfcnn.train(config, tmp_path / "run", dataset=mine, progress=False)
  assert not (tmp_path / "run" / "config.json").exists()
  ok = tfcnn.TrainConfig(model="conv4k3-maxpool2-flatten-dense4", epochs=1, dataset="mine")
  assert tfcnn.train(ok, tmp_path / "run", dataset=mine, progress=False)["dataset"] == "mine"
