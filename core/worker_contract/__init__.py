"""The app <-> GPU worker contract, the one part of `core` the worker (`modal_app/`) imports.

- `messages`: what crosses the wire (the dispatch, its 202 answer, the webhook) and the limits both sides hold.
- `webhooks`: signing and checking those bodies (Standard Webhooks, one shared secret).
- `engine`: what an image engine takes and gives back, and the errors the runner understands.
- `runner`: the job runner both the worker and the app's in-process generator run jobs on.

Beyond itself it imports only `core.errors`, so the worker ships without the rest of the app.
"""
