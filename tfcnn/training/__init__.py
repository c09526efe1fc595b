"""Training: the config, the trainer and its compiled steps, the hand-written
loop, and run outputs."""

from tfcnn.training.config import TrainConfig
from tfcnn.training.loop import Hook, TrainingDiverged, TrainingInterrupted, prepare_data, train
from tfcnn.training.trainer import Trainer
from tfcnn.training.restore import load_model
from tfcnn.training.results import weights_sha256

__all__ = ["Hook", "TrainConfig", "Trainer", "TrainingDiverged", "TrainingInterrupted",
           "load_model", "prepare_data", "train",
           "weights_sha256"]
