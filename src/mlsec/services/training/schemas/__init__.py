"""Request and response models of the training service (seed 000's TrainingClient), one module per concept."""
