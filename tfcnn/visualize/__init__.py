"""What each filter responds to (activation maximisation, top patches) and what a
prediction rests on (saliency, Grad-CAM)."""

from tfcnn.visualize.activation_max import (MaximizeConfig, best_dataset_activation,
                                            filter_objective, maximize)
from tfcnn.visualize.attribution import grad_cam, saliency
from tfcnn.visualize.patches import crop, receptive_box, top_patches

__all__ = ["MaximizeConfig", "best_dataset_activation", "crop", "filter_objective", "grad_cam",
           "maximize", "receptive_box", "saliency", "top_patches"]
