"""Running the platform: one service (`mlsec serve`) or all of them with MLflow (`mlsec up`)."""
