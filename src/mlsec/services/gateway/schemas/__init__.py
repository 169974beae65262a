"""Request and response models of the gateway's own routes, one module per concept."""
