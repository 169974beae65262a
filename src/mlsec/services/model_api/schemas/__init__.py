"""Request and response models of the model API, one module per concept."""
