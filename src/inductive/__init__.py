"""inductive: test a lecture's claims about convolutional inductive biases with real runs."""

__version__ = "0.1.0"
