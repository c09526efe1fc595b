"""TensorBoard summaries and the image grids they show."""

from tfcnn.summaries import grids, probes
from tfcnn.summaries.tensorboard import TensorBoardLogger

__all__ = ["TensorBoardLogger", "grids", "probes"]
