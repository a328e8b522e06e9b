"""The `edocgw` command line: one module per command family (`main` builds the parser)."""

from gateway.cli.main import main

__all__ = ["main"]
