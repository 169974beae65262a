"""The model cache (port 8003): preloaded models, an LRU memory budget, fast predictions."""
