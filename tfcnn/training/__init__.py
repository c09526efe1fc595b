"""Training: what is learned and how it runs (config), the plain train step
(step), the run's state, the hand-written loop, and run outputs.

Speed lives apart, in :mod:`tfcnn.fast`.
"""

from tfcnn.training.config import RunConfig, TrainConfig
from tfcnn.training.hooks import TrainingDiverged, TrainingInterrupted
from tfcnn.training.loop import Hook, prepare_data, train
from tfcnn.training.restore import load_model
from tfcnn.training.results import weights_sha256
from tfcnn.training.state import TrainState
from tfcnn.training.step import train_step

__all__ = ["Hook", "RunConfig", "TrainConfig", "TrainState", "TrainingDiverged",
           "TrainingInterrupted", "load_model", "prepare_data", "train", "train_step",
           "weights_sha256"]
