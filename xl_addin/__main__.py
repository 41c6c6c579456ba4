import sys

from xl_addin.cli import main

sys.exit(main())
