"""Model registry, on-disk store and inference sessions.

``registry`` names the models we know; ``store`` finds, fetches and verifies
their files; ``session`` runs one of them: ``predict(image) -> coarse alpha``.
"""
