"""The engine layer: the generic, spec-driven request path. A request is routed (:mod:`.routing`),
read (:mod:`.api`, :mod:`.bodies`), handled (:mod:`.handlers`, :mod:`.query`, :mod:`.records`)
against the store (:mod:`.store`, :mod:`.persistence`) and rendered (:mod:`.serializer`).
Nothing here is specific to one Clio resource."""
