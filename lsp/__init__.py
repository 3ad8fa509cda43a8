"""The pygls protocol adapter: translates between LSP messages and the core in ``server/``.

It arrives with the language server (``lessonlens serve``); until then this package is empty.
"""
