"""``python -m lessonlens``: the command line (editors start ``python -m lessonlens serve``)."""

from lessonlens.server.cli import main

main()
