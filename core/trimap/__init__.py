"""Trimaps: ``(H, W) uint8`` maps of known background (0), unknown (128) and foreground (255)."""

from core.trimap.auto import BACKGROUND, FOREGROUND, UNKNOWN, auto_trimap, band_radius, trimap_from_mask

__all__ = ["BACKGROUND", "FOREGROUND", "UNKNOWN", "auto_trimap", "band_radius", "trimap_from_mask"]
