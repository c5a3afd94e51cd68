"""TenkaiGen's domain and services. Nothing here imports Gradio."""
