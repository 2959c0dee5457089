"""The driver against the simulator, through nova's loader and objects."""
