"""mlsec: the ML Security Platform."""

__version__ = "0.1.0"
