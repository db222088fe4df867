import sys

from runx.sumx import main

sys.exit(main())
