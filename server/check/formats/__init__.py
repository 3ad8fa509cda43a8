"""Output formats for ``lessonlens check``: text, JSON, SARIF, GitHub annotations, Markdown."""
