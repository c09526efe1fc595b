"""tfcnn: convolutional networks written directly on TensorFlow's low-level API.

Layers are ``tf.Module``s on ``tf.nn`` ops, the training loop is written by
hand under ``tf.function``, and every run is seeded and reproducible.

Example:
  >>> import tfcnn
  >>> model = tfcnn.build_model("seed_cnn", seed=1)   # built for 28x28x1
  >>> print(model.summary())                           # shapes, params, receptive fields
"""

from tfcnn import activations, analysis, data, initializers, layers, losses, metrics, optimizers
from tfcnn.errors import (CheckpointError, ConfigError, DataError, ShapeError, SpecError,
                          TfcnnError)
from tfcnn.export import export_saved_model
from tfcnn import geometry
from tfcnn.geometry import LayerGeometry, layer_geometry
from tfcnn.model import Sequential, Summary
from tfcnn.spec import (PRESETS, build as build_model, canonical as canonical_spec,
                         parse as parse_spec)
from tfcnn.training import (RunConfig, TrainConfig, TrainState, load_model, train,
                            weights_sha256)

__version__ = "0.1.0"

__all__ = [
    "CheckpointError", "ConfigError", "DataError", "LayerGeometry", "PRESETS", "Sequential",
    "RunConfig", "ShapeError", "SpecError", "Summary", "TfcnnError", "TrainConfig", "TrainState",
    "activations", "analysis", "build_model", "canonical_spec", "data", "export_saved_model", "geometry",
    "initializers", "layer_geometry", "layers", "load_model", "losses", "metrics", "optimizers",
    "parse_spec", "train", "weights_sha256",
]
