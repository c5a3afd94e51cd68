"""The GPU worker: Qwen-Image inference, its HTTP app, and the Modal deployment that wraps them.

`inference` and `worker_app` run anywhere (a laptop CPU, a self-hosted GPU, Modal);
`qwen_generator` is the only module that imports `modal`.
"""
