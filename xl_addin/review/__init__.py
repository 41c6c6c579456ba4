"""Expert review (issue 5): assignment, expert workbooks, collection and the results.

Python entry points for the CLI and the ribbon: :func:`workflow.run_assign` and
:func:`workflow.run_collect`. The pure parts (:mod:`assign`, :mod:`aggregate`) know nothing of
files.
"""
