"""CSV export and import of every registered resource (best_app.resources).

cells.py owns how a value is written to a cell and read back (the formula
escape included); export.py streams a list as CSV; reader.py turns an
uploaded file into rows or a clear FileProblem; importer.py validates the rows
(validation.py: with the resource's form) and applies them in one transaction
(bulk.py: one statement a chunk on PostgreSQL). The admin pages, the API and
the CLI only call these.
"""
