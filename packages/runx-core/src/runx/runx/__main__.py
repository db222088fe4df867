import sys

from runx.runx import main

sys.exit(main())
