"""Text output of the operator commands (`python app.py doctor | migrate | lifecycle | stats | costs`).

Pure functions from core's results to strings; app.py parses arguments, builds backends and prints.
"""
