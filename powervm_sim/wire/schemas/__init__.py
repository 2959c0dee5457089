"""One module per resource family: the schema outline of each UOM type."""
