"""From a completed design to a product in the Printful store: the catalog's variants, official
mockups through one queue shared by every app process, and publishing (core.publishing.service).

The Printful client itself is core.catalog.printful; this package keeps what the app records
about it in the jobs database (core.publishing.store) and the worker that drains the queue
(core.publishing.mockup_queue).
"""
