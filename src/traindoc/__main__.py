from traindoc.cli import main

raise SystemExit(main())
