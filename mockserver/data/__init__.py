"""The data layer: fake values (:mod:`.fakedata`), seeding a firm (:mod:`.seeding`), the seed cache
(:mod:`.seedcache`) and scenarios described in YAML (:mod:`.scenarios`, shipped ones in ``fixtures/``)."""
