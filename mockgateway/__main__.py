from mockgateway.cli import main

raise SystemExit(main())
