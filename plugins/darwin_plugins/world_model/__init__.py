"""Predictor ``world-model``: a small torch network that predicts an attempt's outcome."""
