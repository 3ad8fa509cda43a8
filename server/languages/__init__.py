"""The lesson languages of the built-in JavaScript/TypeScript and Go.

Each module registers one ``LessonLanguage`` (the lessons layer's): its fence word, syntax checks
by the language's own grammar (through the analysis façade), the runner that executes a
lesson's before/after examples (``node``, ``go``) and the timer that measures them. They are
reached the way a plugin's are: entry points in the group ``lessonlens.languages``
(pyproject.toml), which the lessons layer loads on its first look-up. Nothing here runs while
the editor serves a document: runners run only in the tests and ``benchmarks/``.
"""
