"""The model API's logic, one module per concept; the serving engine (mlsec.serving) does the rest."""
