"""The GPU worker: Qwen-Image inference, its HTTP app, and the Modal deployment that wraps them.

`inference` (the engine) with `engine_config`, `model_files`, `lightning_lora` and
`nunchaku_transformer` (how it loads), and `worker_app` with `job_runner` and
`webhook_delivery` (how jobs arrive and results leave) run anywhere: a laptop CPU, a
self-hosted GPU (`serve`), Modal. On Modal, `dispatch_front` (the CPU front door) spawns
`spawned_job` on the GPU class, and `deployment` carries the deploy-time settings into the
containers; `qwen_generator` is the only module that imports `modal`.
From `core` the worker imports only `core.worker_contract`.
"""
