"""Errors raised by the analysis library; each message names what is wrong and the valid options."""


class ParcoursError(Exception):
    """Base class of the library's errors."""


class TaxonomyError(ParcoursError):
    """The taxonomy file or a label id is invalid."""


class ModelError(ParcoursError):
    """A model directory is missing, incomplete or incompatible with the installed libraries."""


class InputError(ParcoursError):
    """An input file cannot be read (bad column, encoding, format); `code` names the problem for machines.

    `columns`: the file's columns, when the problem is a column (none found for the text, or one named that the
    file lacks), so that a caller can offer them.
    """

    def __init__(self, message: str, code: str = "invalid_input", columns: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.columns = columns
