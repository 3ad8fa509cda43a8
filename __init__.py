"""lessonlens: inline micro-lessons and optimisation hints, in the flow of work."""

__version__ = "0.1.0"
