"""planner: do elderly-care facilities reach the people they serve."""

from __future__ import annotations

__version__ = "0.1.0"
