"""The self generator: the variant is a coding agent that edits its own code."""
