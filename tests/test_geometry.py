"""summary(): shapes, parameters and receptive fields against hand-computed values."""

import pytest

import tfcnn
from tfcnn import layers


def test_seed_cnn_worked_numbers():
  summary = tfcnn.build_model("seed_cnn").summary(print_fn=None)
  rows = summary.layers
  # Map widths 26, 13, 11, 5, 3 (the seed's numbers).
  assert [r.output_shape[0] for r in rows[:5]] == [26, 13, 11, 5, 3]
  # A 3x3 conv from 32 to 64 maps: 3*3*32*64 + 64 = 18,496 parameters.
  assert rows[2].num_params == 18_496
  assert [r.num_params for r in rows] == [320, 0, 18_496, 0, 36_928, 0, 36_928, 650]
  assert summary.num_params == 93_322
  # Receptive fields 3, 4, 8, 10, 18 with jumps 1, 2, 2, 4, 4.
  assert [r.receptive_field for r in rows[:5]] == [3, 4, 8, 10, 18]
  assert [r.jump for r in rows[:5]] == [1, 2, 2, 4, 4]
  # Dense layers have no receptive field on the image.
  assert rows[6].receptive_field is None and rows[6].jump is None
  # Centre of node (0, 0) of the third conv: (18 - 1) / 2 = 8.5 (valid padding).
  assert rows[4].start == pytest.approx(8.5)


def test_summary_shows_as_its_table_once(capsys):
  summary = tfcnn.build_model("seed_cnn").summary()
  assert capsys.readouterr().out == ""            # returned, not printed twice in a REPL
  assert repr(summary) == str(summary) == summary.table
  print(summary)
  out = capsys.readouterr().out
  assert "receptive field" in out and "18x18" in out and "18,496" in out
  assert "total parameters: 93,322" in out


def test_same_padding_and_strides():
  model = tfcnn.Sequential([layers.Conv2D(4, 5, strides=2, padding="same"),
                            layers.MaxPool2D(3, strides=1, padding="same")])
  rows = model.summary(input_shape=(28, 28, 1), print_fn=None).layers
  assert rows[0].output_shape == (14, 14, 4)
  assert (rows[0].receptive_field, rows[0].jump) == (5, 2)
  # Padding total 3, 1 on the left: the first window covers -1..3, centred on 1.
  assert rows[0].start == pytest.approx(1.0)
  assert rows[1].output_shape == (14, 14, 4)
  assert (rows[1].receptive_field, rows[1].jump) == (5 + 2 * 2, 2)


def test_batch_norm_parameters_split_into_trainable_and_not():
  summary = tfcnn.build_model("conv8k3:linear-bn-relu-flatten-dense10").summary(print_fn=None)
  assert summary.layers[1].num_params == 4 * 8
  assert summary.num_params - summary.num_trainable_params == 2 * 8


def test_a_spec_that_does_not_fit_fails_at_build_naming_layer_and_shapes():
  with pytest.raises(tfcnn.ShapeError, match=r"layer conv_4: input 4x4 is smaller than its 5x5 kernel"):
    tfcnn.build_model("conv8k5-maxpool2-conv8k5-maxpool2-conv8k5")


def test_forward_flops_of_the_seed_cnn_by_hand():
  # conv 26*26*32*(3*3*1), conv 11*11*64*(3*3*32), conv 3*3*64*(3*3*64), dense 576*64, 64*10;
  # two FLOPs per multiply-accumulate.
  macs = 26 * 26 * 32 * 9 + 11 * 11 * 64 * 288 + 3 * 3 * 64 * 576 + 576 * 64 + 64 * 10
  model = tfcnn.build_model("seed_cnn")
  assert tfcnn.geometry.forward_flops(model.layers, (28, 28, 1)) == 2 * macs
  assert tfcnn.geometry.train_flops(model.layers, (28, 28, 1)) == 3 * 2 * macs
