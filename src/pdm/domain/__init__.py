"""The pure domain: aggregates, rules, timers and the event-sourced application."""
