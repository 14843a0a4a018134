"""The one exception type for bad input: its message names the problem and the fix."""


class InputError(ValueError):
    """Bad input from a user (arguments, files, data).

    The message is a single line that says what is wrong and how to fix it; the
    command line prints it without a traceback and exits with status 2.
    """
