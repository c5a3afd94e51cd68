"""The command line of `python app.py`: its arguments (parser), the operator commands
(commands), their text (render) and serving (serve). Backends come from core.backends."""
