"""What each filter responds to: activation maximisation and top patches."""

from tfcnn.visualize.activation_max import (MaximizeConfig, best_dataset_activation,
                                            filter_objective, maximize)
from tfcnn.visualize.patches import crop, receptive_box, top_patches

__all__ = ["MaximizeConfig", "best_dataset_activation", "crop", "filter_objective", "maximize",
           "receptive_box", "top_patches"]
