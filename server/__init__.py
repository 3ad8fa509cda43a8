"""The application core: documents, orchestration, configuration, output formats and the CLI."""
