"""TensorBoard summaries and the image grids they show."""

from tfcnn.summaries import grids, probes
from tfcnn.summaries.step_scalars import StepSummaries
from tfcnn.summaries.tensorboard import TensorBoardLogger

__all__ = ["StepSummaries", "TensorBoardLogger", "grids", "probes"]
