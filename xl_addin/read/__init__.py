"""The one reader of submitted workbooks and the one verdict built from it."""
