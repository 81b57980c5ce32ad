"""Matting evaluation: standard error metrics and dataset runners."""
