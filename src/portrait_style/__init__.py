"""portrait-style: learn a portrait photography style from examples, apply it to video in real time."""

__version__ = "0.1.0"

from portrait_style.errors import InputError, ModelError, OutputError, PortraitStyleError  # noqa: E402

__all__ = ["InputError", "ModelError", "OutputError", "PortraitStyleError", "Stylizer", "__version__"]


def __getattr__(name):
    # Imported lazily so `import portrait_style` stays cheap (torch and onnxruntime load on first use).
    if name == "Stylizer":
        from portrait_style.api import Stylizer

        return Stylizer
    raise AttributeError(name)
