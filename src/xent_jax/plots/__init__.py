"""Figures: one module per topic; each function takes results and writes or returns a figure."""
