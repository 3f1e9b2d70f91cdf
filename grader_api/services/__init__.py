"""The service's domain logic, shared by the pages, the JSON API, the seeder and the workers."""
