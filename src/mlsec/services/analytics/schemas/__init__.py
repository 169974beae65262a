"""Request and response models of the analytics service, one module per concept."""
