"""Operator commands' logic (`python app.py doctor | lifecycle | ...`); printing stays in `cli/`."""
