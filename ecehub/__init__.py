"""ecehub: one GraphQL program graph over a state's early-childhood sector systems."""

__version__ = "0.1.0"

__all__ = ["__version__"]
