"""What only the tests share: video clips, image builders, AppTest page helpers, the Live page's checks,
the proxy's answers and the environment rules (CI fails where a developer machine skips). Imported as
``support.*`` (pytest puts tests/ on the path). Running the app, the fake camera and the browser driver are
the first-party :mod:`serve` package's."""
