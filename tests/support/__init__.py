"""What the tests (and the measuring scripts) share: the app server, the browser driver, the fake
camera, video clips, image builders, AppTest page helpers and the environment rules (CI fails where a
developer machine skips). Imported as ``support.*`` by tests (pytest puts tests/ on the path) and as
``tests.support.*`` by scripts/; modules here import each other relatively so both work."""
