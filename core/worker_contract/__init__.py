"""The app <-> GPU worker contract: what a dispatch carries, what a webhook carries, how both are signed.

This is the one part of `core` the worker (`modal_app/`) imports.
"""
