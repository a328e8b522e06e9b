"""The samples fixture for the edXML tests (see tests/samples.py)."""

from tests.samples import samples

__all__ = ["samples"]
