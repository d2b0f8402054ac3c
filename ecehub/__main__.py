from ecehub.cli import main

raise SystemExit(main())
