"""DeZero's name for its simple core; in dezero_lite it is the one core itself.

Importing dezero_lite.core_simple gives the module dezero_lite.core (the same object,
not a copy), so Variables made through either name are one and the same class.
"""

import sys

from dezero_lite import core

sys.modules[__name__] = core
