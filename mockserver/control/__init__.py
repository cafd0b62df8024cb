"""The control layer: what tests and operators drive inside a running mock: the control API under
``/__mock__/`` (:mod:`.api`), injected faults (:mod:`.faults`) and the request journal (:mod:`.journal`)."""
