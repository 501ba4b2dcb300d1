"""runtime: wiring of sources and stages, clocks, queues."""
