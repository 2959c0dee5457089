"""TaskFlow tasks the driver's flows are made of, grouped by what they
touch; each task is one step with its own undo (``revert``)."""
