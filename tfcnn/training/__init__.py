"""Training: the config, the hand-written loop, and run outputs."""

from tfcnn.training.config import TrainConfig
from tfcnn.training.loop import Hook, Trainer, prepare_data, train
from tfcnn.training.restore import load_model
from tfcnn.training.results import weights_sha256

__all__ = ["Hook", "TrainConfig", "Trainer", "load_model", "prepare_data", "train",
           "weights_sha256"]
