"""The Gradio UI. It only builds components and calls services from `core`."""
