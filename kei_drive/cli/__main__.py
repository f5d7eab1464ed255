import sys

from kei_drive.cli import main

sys.exit(main())
