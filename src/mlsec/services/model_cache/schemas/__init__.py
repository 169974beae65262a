"""Request and response models of the model cache, one module per concept."""
