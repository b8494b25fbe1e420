"""Text for people: pure ``format_*`` functions that turn the library's numbers into lines.

The command line prints them and the notebook displays them; the compute modules never build
prose. One module per topic.
"""
