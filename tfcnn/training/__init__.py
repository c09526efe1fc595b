"""Training: the config, the hand-written loop, and run outputs."""

from tfcnn.training.config import TrainConfig
from tfcnn.training.loop import (Hook, Trainer, TrainingDiverged, TrainingInterrupted,
                                 prepare_data, train)
from tfcnn.training.restore import load_model
from tfcnn.training.results import weights_sha256

__all__ = ["Hook", "TrainConfig", "Trainer", "TrainingDiverged", "TrainingInterrupted",
           "load_model", "prepare_data", "train",
           "weights_sha256"]
