"""`python -m vietcx ...`: the product's command line."""

import sys

from vietcx.cli import main

sys.exit(main())
