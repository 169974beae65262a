"""The model cache's logic, one module per concept; the serving engine (mlsec.serving) does the rest."""
