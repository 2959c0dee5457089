"""Hypothesis state machines over the driver and the simulator."""
