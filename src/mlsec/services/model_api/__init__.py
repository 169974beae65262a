"""The model API (port 8000): predictions and the models loaded for them."""
