"""runx-core: configuration, sweep expansion, naming, staging and farm backends behind `runx.runx`."""
