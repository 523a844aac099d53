from . import categories, tax, tiers  # noqa: F401  (their views join the blueprint's routes)
from .routes import bp

__all__ = ["bp"]
