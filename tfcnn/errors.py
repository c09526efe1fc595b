"""Errors that are meant for people, not for debuggers.

Every error a user can cause by bad input (a spec, a flag, a file, a
checkpoint) is a :class:`TfcnnError`. Scripts catch this one class and print
its message as a single line with a non-zero exit status, never a traceback.
"""


class TfcnnError(Exception):
  """Base class of every user-facing tfcnn error.

  `exit_code` is the status a script exits with when this error ends it.
  """

  def __init__(self, message: str = "", exit_code: int = 1):
    super().__init__(message)
    self.exit_code = exit_code


class SpecError(TfcnnError, ValueError):
  """An architecture spec that cannot be parsed."""


class ShapeError(TfcnnError, ValueError):
  """A model or layer that does not fit the shape (or dtype) of its input."""


class DataError(TfcnnError, OSError):
  """A data file that is missing, malformed, corrupt or fails its checksum."""


class ConfigError(TfcnnError, ValueError):
  """An invalid configuration value or combination of values."""


class CheckpointError(TfcnnError, ValueError):
  """A checkpoint that does not belong to this model."""
