"""The spec layer: Clio's OpenAPI document loaded and indexed (:mod:`.index`), where it comes from
(:mod:`.source`), drift between two documents (:mod:`.diff`) and the named allowances for its gaps."""
