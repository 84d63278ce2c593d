// Each test class starts its own app; running them one at a time keeps a 2-core machine responsive,
// so waits measure the app, not contention.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
