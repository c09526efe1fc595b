"""The training loop: results, SavedModel, resume, reproducibility, refusals."""

import dataclasses
import functools
import json

import numpy as np
import pytest
import tensorflow as tf

import tfcnn
from tfcnn import training

TINY = training.TrainConfig(model="conv4k3-maxpool2-flatten-dense10", epochs=2, batch_size=32,
                            train_limit=192, test_limit=64, seed=3, deterministic=True)


def test_results_have_the_contract_fields(tmp_path):
  results = training.train(TINY, tmp_path)
  on_disk = json.loads((tmp_path / "results.json").read_text())
  assert on_disk == json.loads(json.dumps(results))
  for key in ("dataset", "dataset_source", "test_accuracy", "test_loss", "num_parameters",
              "seed", "weights_sha256", "epochs"):
    assert key in results
  assert results["dataset"] == "mnist_sample" and results["seed"] == 3
  assert results["num_parameters"] == 3 * 3 * 4 + 4 + 13 * 13 * 4 * 10 + 10
  assert [e["epoch"] for e in results["epochs"]] == [1, 2]
  for e in results["epochs"]:
    assert {"train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds",
            "images_per_second"} <= set(e)
  assert results["steps"] == 2 * 6
  assert (tmp_path / "config.json").exists() and (tmp_path / "ckpt" / "checkpoint").exists()


def test_saved_model_serves_logits_and_probabilities(tmp_path):
  training.train(TINY, tmp_path)
  loaded = tf.saved_model.load(str(tmp_path / "saved_model"))
  serve = loaded.signatures["serving_default"]
  assert serve.structured_input_signature[1]["images"].shape.as_list() == [None, 28, 28, 1]
  images = tfcnn.data.pipeline.scale(tfcnn.data.load("mnist_sample").test_images[:5])
  out = serve(images=images)
  assert out["logits"].shape == (5, 10) and out["probabilities"].shape == (5, 10)
  np.testing.assert_allclose(out["probabilities"].numpy().sum(axis=1), 1.0, rtol=1e-5)
  np.testing.assert_allclose(tf.nn.softmax(out["logits"]), out["probabilities"], atol=1e-6)
  for bad in (tf.zeros([2, 28, 28]), tf.zeros([2, 28, 28, 3]), tf.zeros([2, 14, 14, 1])):
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError)):
      serve(images=bad)
  with pytest.raises(tf.errors.InvalidArgumentError, match="expected to be a float tensor"):
    serve(images=tf.zeros([2, 28, 28, 1], tf.int32))


def test_same_seed_same_weights_different_seed_different_weights(tmp_path):
  a = training.train(TINY, tmp_path / "a")
  b = training.train(TINY, tmp_path / "b")
  c = training.train(dataclasses.replace(TINY, seed=4), tmp_path / "c")
  assert a["weights_sha256"] == b["weights_sha256"]
  assert a["weights_sha256"] != c["weights_sha256"]


def test_a_finished_run_is_not_retrained(tmp_path):
  first = training.train(TINY, tmp_path)
  again = training.train(TINY, tmp_path)
  assert again["weights_sha256"] == first["weights_sha256"]
  assert again["steps"] == first["steps"]


def test_more_epochs_continue_exactly_like_an_uninterrupted_run(tmp_path):
  config = dataclasses.replace(TINY, lr_schedule="constant")
  straight = training.train(config, tmp_path / "straight")
  training.train(dataclasses.replace(config, epochs=1), tmp_path / "split")
  continued = training.train(config, tmp_path / "split")
  assert continued["weights_sha256"] == straight["weights_sha256"]
  assert [e["train_loss"] for e in continued["epochs"]] == [
      e["train_loss"] for e in straight["epochs"]]


def _crash_after(workdir, position: int) -> None:
  """Makes `workdir` look as if the run died right after the first
  checkpoint at `position` of an epoch: later checkpoints and results go."""
  ckpt = workdir / "ckpt"
  numbers = sorted(int(p.name[5:-6]) for p in ckpt.glob("ckpt-*.index"))
  at = [n for n in numbers if tf.train.load_variable(
      str(ckpt / f"ckpt-{n}"), "position/.ATTRIBUTES/VARIABLE_VALUE") == position]
  assert at, numbers
  for n in numbers:
    if n > at[0]:
      for path in ckpt.glob(f"ckpt-{n}.*"):
        path.unlink()
  (workdir / "results.json").unlink()


def test_resume_from_a_mid_epoch_checkpoint_is_exact(tmp_path):
  config = dataclasses.replace(TINY, epochs=1,
                               model="conv4k3-maxpool2-flatten-dropout0.3-dense10")
  run = training.RunConfig(checkpoint_every_steps=2)
  straight = training.train(config, tmp_path / "straight", run=run)
  # Simulate a crash after step 4.
  training.train(config, tmp_path / "crashed", run=run)
  _crash_after(tmp_path / "crashed", position=4)
  resumed = training.train(config, tmp_path / "crashed", run=run)
  assert resumed["weights_sha256"] == straight["weights_sha256"]
  assert resumed["epochs"][0]["train_loss"] == pytest.approx(straight["epochs"][0]["train_loss"])


def test_a_run_resumed_mid_epoch_on_another_shard_count_ends_bitwise_equal(tmp_path):
  # Shards change only how many units run at once (say, on a machine with
  # more cores): the run goes on, and finishes exactly as it would have.
  config = TINY
  straight = training.train(config, tmp_path / "straight",
                            run=training.RunConfig(checkpoint_every_steps=3))
  training.train(config, tmp_path / "moved", run=training.RunConfig(checkpoint_every_steps=3))
  _crash_after(tmp_path / "moved", position=3)
  resumed = training.train(config, tmp_path / "moved",
                           run=training.RunConfig(batch_shards=2, steps_per_call=1))
  assert resumed["weights_sha256"] == straight["weights_sha256"]
  assert json.loads((tmp_path / "moved" / "run.json").read_text())["batch_shards"] == 2


def test_a_changed_configuration_is_refused_on_an_old_workdir(tmp_path):
  training.train(TINY, tmp_path)
  with pytest.raises(tfcnn.ConfigError, match=r"another configuration \(seed: 3 -> 5\)"):
    training.train(dataclasses.replace(TINY, seed=5), tmp_path)
  # The cosine schedule spans the planned epochs, so they cannot change either.
  assert TINY.lr_schedule == "cosine"
  with pytest.raises(tfcnn.ConfigError, match=r"epochs: 2 -> 3"):
    training.train(dataclasses.replace(TINY, epochs=3), tmp_path)


def test_a_checkpoint_of_another_architecture_is_refused(tmp_path):
  training.train(TINY, tmp_path)
  (tmp_path / "config.json").unlink()
  other = dataclasses.replace(TINY, model="conv8k3-maxpool2-flatten-dense10")
  with pytest.raises(tfcnn.CheckpointError, match="does not fit model"):
    training.train(other, tmp_path)


@pytest.mark.parametrize("change,message", [
    (dict(epochs=0), "epochs must be >= 1"),
    (dict(optimizer="adagrad"), "unknown optimizer 'adagrad'"),
    (dict(dataset=" "), "dataset must be a name"),
    (dict(learning_rate=-1.0), "learning_rate must be > 0"),
    (dict(lr_schedule="step"), "unknown lr_schedule"),
    (dict(validation_fraction=1.0), "validation_fraction must be in"),
    (dict(unit_size=-1), "unit_size must be >= 0"),
    (dict(learning_rate=float("inf")), "learning_rate must be a finite number"),
    (dict(l2=float("nan")), "l2 must be a finite number"),
])
def test_invalid_config_values(change, message):
  with pytest.raises(tfcnn.ConfigError, match=message):
    dataclasses.replace(TINY, **change).validate()


def test_an_unknown_dataset_name_is_refused_before_anything_is_written(tmp_path):
  # Any name is a valid configuration (arrays passed to train() carry their own),
  # but one that names no dataset fails at loading, listing the known ones.
  with pytest.raises(tfcnn.DataError, match="unknown dataset 'cifar'; known: .*cifar10"):
    training.train(dataclasses.replace(TINY, dataset="cifar"), tmp_path / "run")
  assert not (tmp_path / "run" / "config.json").exists()


@pytest.mark.parametrize("change,message", [
    (dict(batch_shards=0), "batch_shards must be >= 1"),
    (dict(steps_per_call=0), "steps_per_call must be >= 1"),
    (dict(nonfinite="retry"), "nonfinite must be 'stop' or 'skip'"),
])
def test_invalid_run_values(change, message):
  with pytest.raises(tfcnn.ConfigError, match=message):
    training.RunConfig(**change).validate()


def test_how_a_run_runs_may_change_on_resume_but_not_what_it_learns(tmp_path):
  training.train(TINY, tmp_path, run=training.RunConfig(steps_per_call=4, log_every_steps=2))
  again = training.train(TINY, tmp_path, run=training.RunConfig(batch_shards=3))
  assert json.loads((tmp_path / "run.json").read_text())["batch_shards"] == 3
  assert set(json.loads((tmp_path / "config.json").read_text())) == set(TINY.to_dict()) | {"data"}
  assert again["steps"] == 12


def test_the_plain_step_traces_once_per_run(tmp_path):
  state = training.TrainState(TINY, (28, 28, 1), steps_per_epoch=4)
  train_step = tf.function(functools.partial(training.train_step, state),
                           input_signature=state.batch_spec())
  for batch in (32, 7, 32, 1):
    loss, finite = train_step(tf.zeros([batch, 28, 28, 1]), tf.zeros([batch], tf.int32))
    assert bool(finite)
  assert train_step.experimental_get_tracing_count() == 1


def test_validation_split_is_reported(tmp_path):
  results = training.train(dataclasses.replace(TINY, epochs=1, validation_fraction=0.25),
                           tmp_path)
  assert results["train_examples"] == 144
  assert "validation_accuracy" in results["epochs"][0]


@pytest.fixture
def nan_at_third_call(monkeypatch):
  """Makes the loss NaN on its third call (the third training batch, with one unit a batch)."""
  from tfcnn import losses
  calls = tf.Variable(0)
  original = losses.sparse_softmax_cross_entropy

  def poisoned(labels, logits):
    calls.assign_add(1)
    loss = original(labels, logits)
    return tf.where(tf.equal(calls, 3), tf.fill(tf.shape(loss), float("nan")), loss)

  monkeypatch.setattr(losses, "sparse_softmax_cross_entropy", poisoned)


def test_a_non_finite_loss_stops_the_run_and_keeps_the_last_good_checkpoint(
    tmp_path, nan_at_third_call):
  config = dataclasses.replace(TINY, unit_size=32)   # one loss call per batch
  with pytest.raises(training.TrainingDiverged, match=r"non-finite loss, gradient or weight at epoch 1, "
                     r"batch 3 \(after step 2\); stopped without saving, the last good "
                     r"checkpoint \(.*ckpt-1\) is kept"):
    training.train(config, tmp_path, run=training.RunConfig(checkpoint_every_steps=2))
  assert not (tmp_path / "results.json").exists()
  latest = tf.train.latest_checkpoint(str(tmp_path / "ckpt"))
  assert tf.train.load_variable(latest, "position/.ATTRIBUTES/VARIABLE_VALUE") == 2
  kernel = tf.train.load_variable(latest, "model/layers/0/kernel/.ATTRIBUTES/VARIABLE_VALUE")
  assert np.all(np.isfinite(kernel))


def test_skip_mode_skips_and_counts_non_finite_batches(tmp_path, nan_at_third_call):
  results = training.train(dataclasses.replace(TINY, unit_size=32), tmp_path,
                           run=training.RunConfig(nonfinite="skip"))
  assert results["skipped_batches"] == 1
  assert results["steps"] == 2 * 6 - 1
  assert results["epochs"][0]["skipped_batches"] == 1
  model = training.load_model(tmp_path)
  for v in model.trainable_variables:
    assert np.all(np.isfinite(v.numpy()))
