"""CLI command modules: each has ``register(app)`` and keeps heavy imports inside its functions."""
