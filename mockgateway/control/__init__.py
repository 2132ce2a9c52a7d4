"""What the admin API steers and reads, below the engine and the services: the journal, fault rules,
latency, Web API tokens, the consent book, and the admin request type features add routes with."""
