"""The TensorFlow zone: the Keras network, its training, the model card and the TFLite conversion.

Nothing here is imported by the app's server or the serving modules (``fer.classifier`` runs LiteRT
only; tests/test_native_imports.py keeps it so). ``python -m fer.train`` runs the training CLI.
"""
