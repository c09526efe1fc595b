"""Layers: ``tf.Module``s on ``tf.nn`` ops, built lazily on first call."""

from tfcnn.layers.activation import Activation
from tfcnn.layers.base import Layer
from tfcnn.layers.conv import Conv2D
from tfcnn.layers.dense import Dense, Flatten
from tfcnn.layers.dropout import Dropout
from tfcnn.layers.normalization import BatchNorm
from tfcnn.layers.pool import AvgPool2D, MaxPool2D

__all__ = ["Activation", "AvgPool2D", "BatchNorm", "Conv2D", "Dense",
           "Dropout", "Flatten", "Layer", "MaxPool2D"]
