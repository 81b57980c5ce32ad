"""Foreground colour estimation (colour decontamination)."""
