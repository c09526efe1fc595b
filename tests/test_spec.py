"""The spec grammar: presets, round trips, and a table of bad specs."""

import pytest

import tfcnn
from tfcnn import layers, spec


def test_seed_cnn_preset_is_the_seed_architecture():
  model = tfcnn.build_model("seed_cnn")
  kinds = [(type(l).__name__, getattr(l, "filters", getattr(l, "units", None)),
            getattr(l, "activation_name", None)) for l in model.layers]
  assert kinds == [("Conv2D", 32, "relu"), ("MaxPool2D", None, None), ("Conv2D", 64, "relu"),
                   ("MaxPool2D", None, None), ("Conv2D", 64, "relu"), ("Flatten", None, None),
                   ("Dense", 64, "relu"), ("Dense", 10, "linear")]
  assert model.layers[0].kernel_size == 3 and model.layers[1].pool_size == 2


def test_mlp_preset_is_784_70_30_10_sigmoid():
  model = tfcnn.build_model("mlp")
  assert [v.shape for v in model.kernels] == [(784, 70), (70, 30), (30, 10)]
  assert [l.activation_name for l in model.layers[1:]] == ["sigmoid", "sigmoid", "linear"]


def test_fashion_preset_has_batch_norm_and_dropout():
  model = tfcnn.build_model("fashion_cnn")
  assert any(isinstance(l, layers.BatchNorm) for l in model.layers)
  assert any(isinstance(l, layers.Dropout) for l in model.layers)
  assert model(tfcnn.data.pipeline.scale([[[0] * 28] * 28])).shape == (1, 10)


@pytest.mark.parametrize("text", [
    "seed_cnn", "mlp", "fashion_cnn",
    "conv16k5s2same-avgpool3s1same-conv8k1nobias:tanh-flatten-dropout0.5-dense20:selu-dense10",
    "conv4k3:linear-bn-elu-pool2-flatten-dense10:softmax",
])
def test_canonical_round_trip(text):
  once = spec.canonical(text)
  assert spec.canonical(once) == once
  assert tfcnn.build_model(once).spec == once == tfcnn.build_model(text).spec


def test_defaults_are_written_out():
  assert spec.canonical("conv8-pool2-flatten-dense5-dense3") == (
      "conv8k3:relu-maxpool2-flatten-dense5:relu-dense3:linear")


def test_selu_layers_use_lecun_normal():
  model = tfcnn.build_model("flatten-dense8:selu-dense2")
  assert model.layers[1].kernel_init == "lecun_normal"
  assert model.layers[2].kernel_init == "glorot_uniform"


@pytest.mark.parametrize("bad,message", [
    ("", "empty architecture spec"),
    ("conv32k3--dense10", "token 2 '': empty token"),
    ("conv32k3-pool2-convx", "token 3 'convx': expected conv<filters>"),
    ("conv32k3:relux", "token 1 'conv32k3:relux': expected conv<filters>"),
    ("conv0k3", "token 1 'conv0k3': filters must be at least 1"),
    ("conv8k3s0", "token 1 'conv8k3s0': stride must be at least 1"),
    ("maxpool2x", "token 1 'maxpool2x': expected maxpool<size>"),
    ("dense", "token 1 'dense': expected dense<units>"),
    ("dropout1.5", "token 1 'dropout1.5': dropout rate 1.5 is outside"),
    ("flatten-softmaxx", "token 2 'softmaxx': not a layer token"),
    ("Conv32k3", "token 1 'Conv32k3': not a layer token"),
])
def test_bad_specs_are_rejected_pointing_at_the_token(bad, message):
  with pytest.raises(tfcnn.SpecError) as error:
    spec.parse(bad)
  assert message in str(error.value)
  assert "\n" not in str(error.value)
