"""Datasets: IDX files, lookup/download/cache, and the tf.data pipeline."""

from tfcnn.data import idx, pipeline
from tfcnn.data.sources import (DATASETS, Dataset, DatasetInfo, DatasetUnavailable,
                                download, load, read_folder)

__all__ = ["DATASETS", "Dataset", "DatasetInfo", "DatasetUnavailable", "download",
           "idx", "load", "pipeline", "read_folder"]
